/**
 * ARP who-has crafted at L2 on an agent (optionally 802.1Q-tagged, optionally
 * inside a namespace such as qdhcp-… / qrouter-…), replies captured on the same
 * interface. The CLI analyses the replies (analysis.ts): answered, replier MACs,
 * duplicate answers.
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { ifName, netnsName } from '../iface/contract.js';
import { ipv4Address } from '../icmp/contract.js';
import { macAddress, vlanId } from '../vlan/contract.js';

export const arpProbeParams = z
  .object({
    targetIp: ipv4Address,
    /** default: the interface of the route to targetIp */
    iface: ifName.optional(),
    netns: netnsName.optional(),
    /** tag stack, outer first (one VID = plain 802.1Q) */
    vlans: z.array(vlanId).max(2).default([]),
    /** default: the route's preferred source / the interface's first IPv4 address, else 0.0.0.0 (RFC 5227 probe) */
    senderIp: ipv4Address.optional(),
    /** default: the interface's MAC */
    senderMac: macAddress.optional(),
    /** requests sent (100 ms apart) */
    count: z.number().int().min(1).max(100).default(2),
    /** how long to listen at most (ms) */
    waitMs: z.number().int().min(10).max(60_000).default(1000),
    /** after the first reply, keep listening this long for other repliers (ms) */
    graceMs: z.number().int().min(0).max(10_000).default(300),
  })
  .strict();
export type ArpProbeParams = z.infer<typeof arpProbeParams>;

export const arpReplyWire = z.object({
  tsNs: z.string(),
  op: z.number().int(),
  senderMac: z.string(),
  senderIp: z.string(),
  targetMac: z.string(),
  targetIp: z.string(),
  ethSrc: z.string(),
  vlans: z.array(z.number().int()),
});

export const arpProbeResult = z.object({
  node: z.string(),
  iface: z.string(),
  netns: z.string().nullable(),
  senderIp: z.string(),
  senderMac: z.string(),
  vlans: z.array(z.number().int()),
  sent: z.number().int(),
  /** time of the first request (ns since the epoch) */
  sentNs: z.string(),
  /** the interface is down: nothing was sent */
  linkDown: z.boolean(),
  replies: z.array(arpReplyWire),
  waitedMs: z.number(),
});
export type ArpProbeResult = z.infer<typeof arpProbeResult>;

export const arpProbe = declare('arp.probe', arpProbeParams, arpProbeResult, 'send ARP who-has for an IP at L2 (optionally tagged, optionally in a namespace) and report every reply', 70_000);
