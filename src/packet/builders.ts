/**
 * Layer lists the probes send, ready for encodeFrame. Each returns a fresh array of
 * plain reprs; lengths, checksums and next-protocol fields are left to encodeFrame.
 */
import { dhcpOption } from './dhcp-options.js';
import { newProbeId } from './probe.js';
import type { DhcpOptionRaw, DhcpRepr, EthernetRepr, Layer, ProbeRepr, VlanRepr } from './types.js';
import { malformed } from './errors.js';

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

export interface VlanTagSpec {
  vid: number;
  pcp?: number;
  dei?: boolean;
  /** default 0x8100; use 0x88a8 for the outer tag of QinQ */
  tpid?: number;
}

/** Ethernet header plus a tag stack (outer first), etherTypes left to fixNextProtocol. */
export function ethernetWithTags(src: string, dst: string, vlans: readonly (number | VlanTagSpec)[] = [], etherType = 0x0800): Layer[] {
  const tags: VlanRepr[] = vlans.map((t) => {
    const s = typeof t === 'number' ? { vid: t } : t;
    return { layer: 'vlan', tpid: s.tpid ?? 0x8100, pcp: s.pcp ?? 0, dei: s.dei ?? false, vid: s.vid, etherType };
  });
  const eth: EthernetRepr = { layer: 'ethernet', dst, src, etherType: tags[0]?.tpid ?? etherType };
  return [eth, ...tags];
}

export interface DhcpClientSpec {
  mac: string;
  xid: number;
  vlans?: readonly (number | VlanTagSpec)[];
  hostname?: string;
  /** default [1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121] */
  paramRequestList?: number[];
  maxMessageSize?: number;
  /** add option 61 with the MAC (default true) */
  clientId?: boolean;
  /** set the BOOTP broadcast flag (default true: replies reach us without an address) */
  broadcast?: boolean;
  secs?: number;
  /** extra options, added before END */
  extra?: DhcpOptionRaw[];
}

function lowerMac(m: string): string {
  if (typeof m !== 'string') return m;
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i);
    if (c >= 65 && c <= 70) return m.toLowerCase(); // A-F
  }
  return m;
}

export const DEFAULT_PRL = [1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121];

function dhcpClientFrame(spec: DhcpClientSpec, options: DhcpOptionRaw[], ciaddr = '0.0.0.0', dst = { mac: BROADCAST_MAC, ip: '255.255.255.255' }, srcIp = '0.0.0.0'): Layer[] {
  if (!Number.isInteger(spec.xid) || spec.xid < 0 || spec.xid > 0xffffffff) throw malformed('dhcp', -1, 'xid must be a 32-bit unsigned integer');
  const d: DhcpRepr = {
    layer: 'dhcp',
    op: 1,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: spec.xid,
    secs: spec.secs ?? 0,
    flags: spec.broadcast === false ? 0 : 0x8000,
    ciaddr,
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: lowerMac(spec.mac),
    sname: '',
    file: '',
    options: spec.extra ? [...options, ...spec.extra, END] : (options.push(END), options),
  };
  const out = spec.vlans && spec.vlans.length ? ethernetWithTags(spec.mac, dst.mac, spec.vlans) : [{ layer: 'ethernet', dst: dst.mac, src: spec.mac, etherType: 0x0800 } as Layer];
  out.push(
    { layer: 'ipv4', src: srcIp, dst: dst.ip, protocol: 17, ttl: 64, id: 0, df: false, mf: false, fragOffset: 0 },
    { layer: 'udp', srcPort: 68, dstPort: 67 },
    d,
  );
  return out;
}

const END: DhcpOptionRaw = Object.freeze({ code: 255 });

function common(spec: DhcpClientSpec, o: DhcpOptionRaw[]): DhcpOptionRaw[] {
  if (spec.clientId !== false) o.push(dhcpOption.clientId(spec.mac));
  if (spec.hostname !== undefined) o.push(dhcpOption.hostname(spec.hostname));
  o.push(dhcpOption.paramRequestList(spec.paramRequestList ?? DEFAULT_PRL));
  if (spec.maxMessageSize !== undefined) o.push(dhcpOption.maxMessageSize(spec.maxMessageSize));
  return o;
}

/** DHCPDISCOVER: options 53, 61, 12 (when hostname), 55, 57 (when maxMessageSize). */
export function dhcpDiscover(spec: DhcpClientSpec): Layer[] {
  return dhcpClientFrame(spec, common(spec, [dhcpOption.messageType(1)]));
}

/** DHCPREQUEST in SELECTING state: requested IP (50) and server id (54) from the OFFER. */
export function dhcpRequest(spec: DhcpClientSpec & { requestedIp: string; serverId: string }): Layer[] {
  return dhcpClientFrame(spec, common(spec, [dhcpOption.messageType(3), dhcpOption.requestedIp(spec.requestedIp), dhcpOption.serverId(spec.serverId)]));
}

/** DHCPRELEASE, unicast to the server from the leased address. */
export function dhcpRelease(spec: DhcpClientSpec & { clientIp: string; serverId: string; serverMac: string }): Layer[] {
  const opts = [dhcpOption.messageType(7), dhcpOption.serverId(spec.serverId)];
  if (spec.clientId !== false) opts.push(dhcpOption.clientId(spec.mac));
  return dhcpClientFrame({ ...spec, broadcast: false }, opts, spec.clientIp, { mac: spec.serverMac, ip: spec.serverId }, spec.clientIp);
}

/** ARP who-has targetIp tell senderIp (broadcast unless dstMac). */
export function arpRequest(spec: { senderMac: string; senderIp: string; targetIp: string; vlans?: readonly (number | VlanTagSpec)[]; dstMac?: string }): Layer[] {
  return [
    ...ethernetWithTags(spec.senderMac, spec.dstMac ?? BROADCAST_MAC, spec.vlans ?? [], 0x0806),
    { layer: 'arp', op: 1, senderMac: spec.senderMac, senderIp: spec.senderIp, targetMac: ZERO_MAC, targetIp: spec.targetIp },
  ];
}

/** ARP reply (senderMac is-at senderIp, to target). */
export function arpReply(spec: { senderMac: string; senderIp: string; targetMac: string; targetIp: string; vlans?: readonly (number | VlanTagSpec)[] }): Layer[] {
  return [
    ...ethernetWithTags(spec.senderMac, spec.targetMac, spec.vlans ?? [], 0x0806),
    { layer: 'arp', op: 2, senderMac: spec.senderMac, senderIp: spec.senderIp, targetMac: spec.targetMac, targetIp: spec.targetIp },
  ];
}

export interface EchoSpec {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  id: number;
  seq: number;
  /** payload bytes, hex (default: 56 bytes like ping) */
  data?: string;
  /** payload size in bytes (pattern like iputils) when data is not given */
  size?: number;
  df?: boolean;
  ttl?: number;
  ipId?: number;
  vlans?: readonly (number | VlanTagSpec)[];
}

/** ICMP echo request. */
export function icmpEcho(spec: EchoSpec): Layer[] {
  let data = spec.data;
  if (data === undefined) {
    const n = spec.size ?? 56;
    let s = '';
    for (let i = 0; i < n; i++) s += (i & 0xff).toString(16).padStart(2, '0');
    data = s;
  }
  return [
    ...ethernetWithTags(spec.srcMac, spec.dstMac, spec.vlans ?? []),
    { layer: 'ipv4', src: spec.srcIp, dst: spec.dstIp, protocol: 1, ttl: spec.ttl ?? 64, id: spec.ipId ?? spec.seq & 0xffff, df: spec.df ?? false, mf: false, fragOffset: 0 },
    { layer: 'icmp', type: 8, code: 0, id: spec.id, seq: spec.seq, data },
  ];
}

export interface ProbeSpec {
  srcMac: string;
  dstMac?: string;
  vlans?: readonly (number | VlanTagSpec)[];
  probeId?: string;
  seq?: number;
  origin: string;
  /** send time (default now, ns) */
  sentNs?: bigint | string;
  /** zero fill bytes after the header */
  fill?: number;
  /** UDP form (port 5899) instead of EtherType 0x88B5 */
  udp?: { srcIp: string; dstIp: string; srcPort?: number; dstPort?: number; df?: boolean };
}

const EPOCH_OFFSET_NS = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();

/** Wall-clock time in ns (epoch), monotonic within this process. */
export function nowNs(): bigint {
  return EPOCH_OFFSET_NS + process.hrtime.bigint();
}

/** A probe frame: Ethernet [+ tags] + 0x88B5 probe, or + IPv4/UDP 5899 + probe. */
export function probeFrame(spec: ProbeSpec): Layer[] {
  const p: ProbeRepr = {
    layer: 'probe',
    probeId: spec.probeId ?? newProbeId(),
    seq: spec.seq ?? 0,
    sentNs: String(spec.sentNs ?? nowNs()),
    origin: spec.origin,
    fill: spec.fill ?? 0,
    version: 1,
  };
  if (!spec.udp) return [...ethernetWithTags(spec.srcMac, spec.dstMac ?? BROADCAST_MAC, spec.vlans ?? [], 0x88b5), p];
  const u = spec.udp;
  return [
    ...ethernetWithTags(spec.srcMac, spec.dstMac ?? BROADCAST_MAC, spec.vlans ?? []),
    { layer: 'ipv4', src: u.srcIp, dst: u.dstIp, protocol: 17, ttl: 64, id: (spec.seq ?? 0) & 0xffff, df: u.df ?? true, mf: false, fragOffset: 0 },
    { layer: 'udp', srcPort: u.srcPort ?? 5899, dstPort: u.dstPort ?? 5899 },
    p,
  ];
}
