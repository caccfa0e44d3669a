/**
 * Path MTU from an agent to an address: DF-set ICMP echoes, binary search over
 * IPv4 datagram sizes (search.ts), run on the agent so each step costs one echo,
 * not one RPC.
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { ifName, netnsName } from '../iface/contract.js';
import { ipv4Address } from '../icmp/contract.js';

export const mtuSearchParams = z
  .object({
    dest: ipv4Address,
    iface: ifName.optional(),
    source: ipv4Address.optional(),
    netns: netnsName.optional(),
    /** smallest IPv4 datagram tried (must pass) */
    low: z.number().int().min(28).max(65_535).default(84),
    /** largest tried; default the MTU of the route's interface */
    high: z.number().int().min(28).max(65_535).optional(),
    /** tries per size before silence counts as "too big" */
    attempts: z.number().int().min(1).max(10).default(2),
    /** wait per echo (ms) */
    timeoutMs: z.number().int().min(10).max(10_000).default(300),
  })
  .strict();
export type MtuSearchParams = z.infer<typeof mtuSearchParams>;

const outcome = z.object({
  ok: z.boolean(),
  reason: z.string().optional(),
  nextHopMtu: z.number().int().optional(),
  from: z.string().optional(),
  rttMs: z.number().optional(),
});

export const mtuSearchResult = z.object({
  node: z.string(),
  dest: z.string(),
  /** the interface the route to dest leaves by, and its MTU */
  routeIface: z.string().nullable(),
  routeIfaceMtu: z.number().int().nullable(),
  low: z.number().int(),
  high: z.number().int(),
  pathMtu: z.number().int().nullable(),
  firstFailing: z.number().int().nullable(),
  fragNeeded: z.object({ size: z.number().int(), from: z.string().optional(), nextHopMtu: z.number().int().optional() }).nullable(),
  localLimit: z.number().int().nullable(),
  reachable: z.boolean(),
  probes: z.array(z.object({ size: z.number().int(), attempt: z.number().int(), outcome })),
  elapsedMs: z.number(),
});
export type MtuSearchResult = z.infer<typeof mtuSearchResult>;

export const mtuSearch = declare('mtu.search', mtuSearchParams, mtuSearchResult, 'path MTU to an address by DF-set ICMP echoes and binary search', 120_000);
