/**
 * ICMP echo from an agent: `icmp.ping` (native, raw socket, see engine.ts) and
 * the original steth agent's `ping` (compat, {code, message, data} envelope).
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { parseIPv4 } from '../../src/validate.js';
import { ifName, netnsName, refineWith } from '../iface/contract.js';

export const ipv4Address = z.string().superRefine((v, c) => refineWith(parseIPv4, v, c));

export const pingParams = z
  .object({
    dests: z.array(ipv4Address).min(1).max(256),
    count: z.number().int().min(1).max(10_000).default(3),
    intervalMs: z.number().int().min(1).max(60_000).default(100),
    /** wait for the last reply (ms) */
    timeoutMs: z.number().int().min(1).max(120_000).default(1000),
    /** ICMP data bytes (ping -s); the IPv4 datagram is size + 28 */
    size: z.number().int().min(0).max(65_507).default(56),
    df: z.boolean().default(false),
    ttl: z.number().int().min(1).max(255).default(64),
    tos: z.number().int().min(0).max(255).optional(),
    /** source interface (SO_BINDTODEVICE) */
    iface: ifName.optional(),
    /** source address written in the IPv4 header */
    source: ipv4Address.optional(),
    /** run inside this network namespace (qdhcp-…, qrouter-…) */
    netns: netnsName.optional(),
  })
  .strict();
export type PingParams = z.infer<typeof pingParams>;

export const icmpErrorInfo = z.object({
  kind: z.string(),
  type: z.number().int(),
  code: z.number().int(),
  from: z.string(),
  nextHopMtu: z.number().int().optional(),
  text: z.string(),
  count: z.number().int(),
});

export const pingResult = z.object({
  dest: z.string(),
  ipSize: z.number().int(),
  df: z.boolean(),
  sent: z.number().int(),
  received: z.number().int(),
  lossPct: z.number(),
  duplicates: z.number().int(),
  rtt: z.object({ min: z.number(), avg: z.number(), max: z.number(), mdev: z.number() }).optional(),
  replies: z.array(z.object({ seq: z.number().int(), rttMs: z.number(), ttl: z.number().int(), from: z.string(), bytes: z.number().int() })),
  errors: z.array(icmpErrorInfo),
  sendErrors: z.array(z.object({ seq: z.number().int(), code: z.string(), message: z.string() })),
  status: z.string(),
});
export type PingResultWire = z.infer<typeof pingResult>;

export const icmpPing = declare(
  'icmp.ping',
  pingParams,
  z.object({ node: z.string(), results: z.array(pingResult) }),
  'ICMP echo to each destination (raw socket): sent, received, loss, rtt min/avg/max/mdev, ICMP errors decoded',
  130_000,
);
