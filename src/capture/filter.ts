/**
 * BPF filters from structured conditions, VLAN-aware, with no untrusted text spliced in.
 *
 * Every value is parsed into a canonical number / MAC / dotted quad first (src/validate)
 * and only that canonical form is printed; unknown keys are rejected. So a filter can be
 * built from RPC params or CLI flags without an injection path.
 *
 * VLAN awareness. On a live Linux capture the outermost 802.1Q/802.1ad tag of a
 * received frame is usually not in the packet data the kernel filter sees: it sits in
 * metadata (libpcap re-inserts it into the captured bytes afterwards). Frames sent on
 * the same interface, and inner tags, are still in the data. So the same condition must
 * hold at in-data depth 0, 1 or 2. libpcap's `vlan` keyword is meant for this, written
 * `(f) or (vlan and f)`, but it moves decoding offsets for everything after it, and
 * libpcap 1.10 keeps those offsets in scratch registers that an earlier `ether[x] = y`
 * comparison can clobber (Debian 12's 1.10.3 then misses QinQ frames). The builder
 * therefore writes every condition with absolute `ether[...]` loads, once per depth,
 * guarded by explicit TPID checks (0x8100, 0x88a8, 0x9100) so that exactly one depth
 * applies to a frame; `vlan N` (which reads the metadata tag too) is only ever
 * appended last, where moving offsets cannot hurt:
 *
 *   (depth0 and F0) or (tag and depth1 and F1) or (tag and tag and depth2 and F2) [and vlan N]
 */
import { parseIPv4, parseMac, assertVlanId } from '../validate.js';
import { PcapError } from './errors.js';

export interface FilterCond {
  /** EtherType of the (innermost) payload, e.g. 0x0806, 0x88b5 */
  etherType?: number;
  srcMac?: string;
  dstMac?: string;
  /** source or destination MAC */
  mac?: string;
  /** IPv4 source or destination (also matches ARP for that address) */
  ip?: string;
  srcIp?: string;
  dstIp?: string;
  ipProto?: 'udp' | 'tcp' | 'icmp' | number;
  /** UDP source or destination port */
  udpPort?: number;
  srcUdpPort?: number;
  dstUdpPort?: number;
  arp?: boolean;
  /**
   * Top level only. A number: the outermost tag has this VID (inner tags allowed).
   * A list: exactly these tags, outer → inner. Without it, tagged and untagged frames
   * both match the other conditions.
   */
  vlan?: number | number[];
  /** Top level only: true = only tagged frames, false = only untagged frames. */
  tagged?: boolean;
  /** steth probe id (16 hex digits): EtherType 0x88B5 or UDP 5899 payloads */
  probeId?: string;
  /** DHCP/BOOTP transaction id (UDP 67/68) */
  dhcpXid?: number;
  and?: FilterCond[];
  or?: FilterCond[];
  not?: FilterCond;
}

export const PROBE_ETHERTYPE = 0x88b5;
export const PROBE_UDP_PORT = 5899;
/** probe payload layout (src/packet/probe.ts): magic "sTH1" at 0, probeId at 8 */
const PROBE_MAGIC = 0x73544831;
const PROBE_ID_OFFSET = 8;
const TPIDS = [0x8100, 0x88a8, 0x9100];
/** tags looked through by absolute-offset conditions */
const MAX_DEPTH = 2;

const KEYS = new Set<keyof FilterCond>([
  'etherType', 'srcMac', 'dstMac', 'mac', 'ip', 'srcIp', 'dstIp', 'ipProto', 'udpPort', 'srcUdpPort',
  'dstUdpPort', 'arp', 'vlan', 'tagged', 'probeId', 'dhcpXid', 'and', 'or', 'not',
]);

function bad(msg: string): PcapError {
  return new PcapError(`filter: ${msg}`, 'EINVAL');
}

function checked<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (err) {
    throw bad(`${what}: ${(err as Error).message}`);
  }
}

function u(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`${what} must be a whole number in 0..${max}`);
  return v;
}

function hex(n: number, width: number): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

function port(v: unknown, what: string): number {
  const n = u(v, what, 65535);
  if (n === 0) throw bad(`${what} must be 1..65535`);
  return n;
}

const and = (parts: string[]): string => (parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' and '));
const or = (parts: string[]): string => (parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' or '));

const isTag = (off: number): string => or(TPIDS.map((t) => `ether[${off}:2] = ${hex(t, 4)}`));

/** Offsets at one in-data tag depth. */
interface At {
  /** offset of the EtherType field */
  et: number;
  /** offset of the L3 header */
  base: number;
}

const at = (d: number): At => ({ et: 12 + 4 * d, base: 14 + 4 * d });

/** The frame has exactly d tags in its data. */
function depthGuard(d: number): string {
  const parts: string[] = [];
  for (let i = 0; i < d; i++) parts.push(isTag(12 + 4 * i));
  parts.push(`not (${isTag(12 + 4 * d)})`);
  return and(parts);
}

/** IPv4 + UDP (first fragment) at this depth; `udpAt(off)` loads the UDP header + off. */
function udp(a: At): { cond: string; at: (off: number, size: 1 | 2 | 4) => string } {
  return {
    cond: and([`ether[${a.et}:2] = 0x0800`, `ether[${a.base + 9}] = 17`, `ether[${a.base + 6}:2] & 0x1fff = 0`]),
    at: (off, size) => `ether[((ether[${a.base}] & 0x0f) << 2) + ${a.base + off}:${size}]`,
  };
}

function udpPortIs(a: At, p: number, which: 'src' | 'dst' | 'any'): string {
  const u = udp(a);
  const src = `${u.at(0, 2)} = ${p}`;
  const dst = `${u.at(2, 2)} = ${p}`;
  return and([u.cond, which === 'src' ? src : which === 'dst' ? dst : or([src, dst])]);
}

function ipIs(a: At, ip: string, which: 'src' | 'dst' | 'any'): string {
  const n = hex(ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0), 8);
  const ipSrc = `ether[${a.base + 12}:4] = ${n}`;
  const ipDst = `ether[${a.base + 16}:4] = ${n}`;
  const arpSpa = `ether[${a.base + 14}:4] = ${n}`;
  const arpTpa = `ether[${a.base + 24}:4] = ${n}`;
  const pick = (s: string, d: string): string => (which === 'src' ? s : which === 'dst' ? d : or([s, d]));
  return or([and([`ether[${a.et}:2] = 0x0800`, pick(ipSrc, ipDst)]), and([`ether[${a.et}:2] = 0x0806`, pick(arpSpa, arpTpa)])]);
}

function probeIdIs(a: At, id: unknown): string {
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{16}$/.test(id)) throw bad('probeId must be 16 hex digits');
  const hi = hex(parseInt(id.slice(0, 8), 16), 8);
  const lo = hex(parseInt(id.slice(8), 16), 8);
  const ether = and([
    `ether[${a.et}:2] = ${hex(PROBE_ETHERTYPE, 4)}`,
    `ether[${a.base}:4] = ${hex(PROBE_MAGIC, 8)}`,
    `ether[${a.base + PROBE_ID_OFFSET}:4] = ${hi}`,
    `ether[${a.base + PROBE_ID_OFFSET + 4}:4] = ${lo}`,
  ]);
  const u = udp(a);
  const overUdp = and([
    udpPortIs(a, PROBE_UDP_PORT, 'any'),
    `${u.at(8 + PROBE_ID_OFFSET, 4)} = ${hi}`,
    `${u.at(8 + PROBE_ID_OFFSET + 4, 4)} = ${lo}`,
  ]);
  return or([ether, overUdp]);
}

function checkKeys(c: FilterCond, top: boolean): void {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad('a condition must be an object');
  for (const k of Object.keys(c)) if (!KEYS.has(k as keyof FilterCond)) throw bad(`unknown condition '${k.slice(0, 40).replace(/[^\w]/g, '?')}'`);
  if (!top && (c.vlan !== undefined || c.tagged !== undefined)) throw bad('vlan and tagged are only allowed at the top level');
}

/** One condition object at in-data tag depth d ('' = no constraint). */
function inner(c: FilterCond, top: boolean, d: number): string {
  checkKeys(c, top);
  const a = at(d);
  const parts: string[] = [];
  if (c.srcMac !== undefined) parts.push(`ether src ${checked(() => parseMac(c.srcMac), 'srcMac')}`);
  if (c.dstMac !== undefined) parts.push(`ether dst ${checked(() => parseMac(c.dstMac), 'dstMac')}`);
  if (c.mac !== undefined) parts.push(`ether host ${checked(() => parseMac(c.mac), 'mac')}`);
  if (c.etherType !== undefined) {
    const t = u(c.etherType, 'etherType', 0xffff);
    if (t < 0x0600) throw bad('etherType must be ≥ 0x0600');
    parts.push(`ether[${a.et}:2] = ${hex(t, 4)}`);
  }
  if (c.arp !== undefined) {
    if (typeof c.arp !== 'boolean') throw bad('arp must be true or false');
    parts.push(c.arp ? `ether[${a.et}:2] = 0x0806` : `not (ether[${a.et}:2] = 0x0806)`);
  }
  if (c.ip !== undefined) parts.push(ipIs(a, checked(() => parseIPv4(c.ip), 'ip'), 'any'));
  if (c.srcIp !== undefined) parts.push(ipIs(a, checked(() => parseIPv4(c.srcIp), 'srcIp'), 'src'));
  if (c.dstIp !== undefined) parts.push(ipIs(a, checked(() => parseIPv4(c.dstIp), 'dstIp'), 'dst'));
  if (c.ipProto !== undefined) {
    const names: Record<string, number> = { icmp: 1, tcp: 6, udp: 17 };
    const p = typeof c.ipProto === 'string' ? names[c.ipProto] : u(c.ipProto, 'ipProto', 255);
    if (p === undefined) throw bad('ipProto must be udp, tcp, icmp or a number');
    parts.push(and([`ether[${a.et}:2] = 0x0800`, `ether[${a.base + 9}] = ${p}`]));
  }
  if (c.udpPort !== undefined) parts.push(udpPortIs(a, port(c.udpPort, 'udpPort'), 'any'));
  if (c.srcUdpPort !== undefined) parts.push(udpPortIs(a, port(c.srcUdpPort, 'srcUdpPort'), 'src'));
  if (c.dstUdpPort !== undefined) parts.push(udpPortIs(a, port(c.dstUdpPort, 'dstUdpPort'), 'dst'));
  if (c.dhcpXid !== undefined) {
    const xid = u(c.dhcpXid, 'dhcpXid', 0xffffffff);
    const uh = udp(a);
    parts.push(and([or([udpPortIs(a, 67, 'any'), udpPortIs(a, 68, 'any')]), `${uh.at(12, 4)} = ${hex(xid, 8)}`]));
  }
  if (c.probeId !== undefined) parts.push(probeIdIs(a, c.probeId));
  if (c.and !== undefined) {
    if (!Array.isArray(c.and) || c.and.length === 0) throw bad('and needs a non-empty list');
    const subs = c.and.map((x) => inner(x, false, d)).filter((s) => s !== '');
    if (subs.length > 0) parts.push(and(subs));
  }
  if (c.or !== undefined) {
    if (!Array.isArray(c.or) || c.or.length === 0) throw bad('or needs a non-empty list');
    const alts = c.or.map((x) => inner(x, false, d));
    if (!alts.some((s) => s === '')) parts.push(or(alts)); // an empty alternative matches everything
  }
  if (c.not !== undefined) {
    const n = inner(c.not, false, d);
    if (n === '') throw bad('not of an empty condition matches nothing');
    parts.push(`not (${n})`);
  }
  return parts.length === 0 ? '' : and(parts);
}

/** BPF text for `cond`: matches untagged, single-tagged and QinQ frames alike unless vlan/tagged say otherwise. */
export function buildFilter(cond: FilterCond): string {
  checkKeys(cond, true);
  let vids: number[] | undefined;
  if (cond.vlan !== undefined) {
    const list = Array.isArray(cond.vlan) ? cond.vlan : [cond.vlan];
    if (list.length === 0 || list.length > MAX_DEPTH) throw bad(`vlan must be a VID or a list of 1..${MAX_DEPTH} VIDs`);
    vids = list.map((v) => checked(() => assertVlanId(v, { allowZero: true }), 'vlan'));
  }
  if (cond.tagged !== undefined && typeof cond.tagged !== 'boolean') throw bad('tagged must be true or false');
  if (vids !== undefined && cond.tagged === false) throw bad('vlan and tagged: false contradict each other');
  const perDepth: string[] = [];
  let unconstrained = false;
  for (let d = 0; d <= MAX_DEPTH; d++) {
    const body = inner(cond, true, d);
    if (body === '') {
      unconstrained = true;
      break;
    }
    perDepth.push(and([depthGuard(d), body]));
  }
  const parts: string[] = unconstrained ? [] : [or(perDepth)];
  // `vlan` last: its offset changes cannot affect anything after it
  if (vids !== undefined) {
    const [outer, innerVid] = vids as [number, number | undefined];
    parts.push(`vlan ${outer}`);
    if (innerVid !== undefined) {
      // inner tag in the data: at 12 when the outer one is in metadata, at 16 when it is in the data
      const vidAt = (off: number): string => and([isTag(off), `ether[${off + 2}:2] & 0x0fff = ${innerVid}`]);
      parts.push(or([vidAt(12), vidAt(16)]));
    }
  } else if (cond.tagged === true) {
    parts.push('vlan');
  } else if (cond.tagged === false) {
    parts.push('not vlan');
  }
  return parts.length === 0 ? '' : and(parts);
}
