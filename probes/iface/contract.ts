/**
 * Interface reports: what `ip -json -details -statistics` and sysfs say about a
 * link, as one typed object (never ifconfig text, except as a last-resort fallback).
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { ifName, netnsName } from '../../src/rpc/fields.js';

export { ifName, netnsName, refineWith } from '../../src/rpc/fields.js';

export const ifaceAddress = z.object({
  family: z.enum(['inet', 'inet6']),
  address: z.string(),
  prefix: z.number().int(),
  scope: z.string().optional(),
  broadcast: z.string().optional(),
});

export const ifaceStats = z.object({
  rxBytes: z.number(),
  rxPackets: z.number(),
  rxErrors: z.number(),
  rxDropped: z.number(),
  txBytes: z.number(),
  txPackets: z.number(),
  txErrors: z.number(),
  txDropped: z.number(),
});

export const ifaceReport = z.object({
  name: z.string(),
  ifindex: z.number().int(),
  /** operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN ... */
  state: z.string(),
  /** IFF_UP (administratively up) */
  adminUp: z.boolean(),
  /** IFF_LOWER_UP (carrier) */
  lowerUp: z.boolean(),
  flags: z.array(z.string()),
  mtu: z.number().int(),
  mac: z.string().nullable(),
  /** link type from the kernel: ether, loopback, none ... */
  linkType: z.string(),
  /** rtnetlink kind: veth, vlan, bridge, openvswitch, dummy, tun, vxlan ... (null = physical/plain) */
  kind: z.string().nullable(),
  master: z.string().nullable(),
  /** lower device (vlan parent; veth peer's ifindex in another netns shows as ifN) */
  link: z.string().nullable(),
  addresses: z.array(ifaceAddress),
  vlan: z.object({ id: z.number().int(), protocol: z.string() }).optional(),
  vxlan: z.object({ id: z.number().int(), remote: z.string().optional(), local: z.string().optional(), port: z.number().int().optional() }).optional(),
  bridge: z.object({ stp: z.boolean().optional(), vlanFiltering: z.boolean().optional(), ports: z.array(z.string()) }).optional(),
  veth: z.object({ peerIfindex: z.number().int().nullable() }).optional(),
  stats: ifaceStats.nullable(),
  /** Mb/s from sysfs when the driver reports it, else null */
  speedMbps: z.number().nullable(),
  duplex: z.string().nullable(),
  driver: z.string().nullable(),
  txQueueLen: z.number().int().nullable(),
  /** where the facts came from */
  source: z.enum(['iproute2', 'ifconfig']),
});
export type IfaceReport = z.infer<typeof ifaceReport>;

export const ifaceGet = declare(
  'iface.get',
  z.object({ name: ifName, netns: netnsName.optional() }).strict(),
  ifaceReport,
  'report one interface (state, MTU, MAC, addresses, kind details, master, counters, speed)',
);

export const ifaceList = declare(
  'iface.list',
  z.object({ netns: netnsName.optional() }).strict().default({}),
  z.object({ interfaces: z.array(ifaceReport) }),
  'report every interface of this node (or of a namespace)',
);
