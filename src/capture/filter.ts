/**
 * BPF filters from structured conditions, VLAN-aware, with no untrusted text spliced in.
 *
 * Every value is parsed into a canonical number / MAC / dotted quad first (src/validate)
 * and only that canonical form is printed; unknown keys are rejected. So a filter can be
 * built from RPC params or CLI flags without an injection path.
 *
 * VLAN awareness. On a live Linux capture the outermost 802.1Q tag of a received frame
 * is often not in the packet data the kernel filter sees: it sits in metadata
 * (libpcap re-inserts it into the captured bytes afterwards). Frames sent on the same
 * interface, and inner tags, are still in the data. libpcap's `vlan` keyword handles
 * both, but it moves the decoding offsets for everything after it, including later
 * `or` branches. So the builder always writes the untagged form first and nests the
 * tagged forms: `(F) or (vlan and ((F) or (vlan and (F))))` — untagged, one tag,
 * two tags (QinQ). Conditions on fixed offsets (MACs, the probe payload) are written
 * with absolute `ether[...]` loads and explicit TPID checks, so they hold at any depth.
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

/** Absolute-offset form: payload with EtherType `etherType` after 0..MAX_DEPTH in-packet tags. */
function atAnyDepth(etherType: number, payload: (base: number) => string[]): string {
  const forms: string[] = [];
  for (let d = 0; d <= MAX_DEPTH; d++) {
    const parts: string[] = [];
    for (let i = 0; i < d; i++) parts.push(or(TPIDS.map((t) => `ether[${12 + 4 * i}:2] = ${hex(t, 4)}`)));
    parts.push(`ether[${12 + 4 * d}:2] = ${hex(etherType, 4)}`);
    parts.push(...payload(14 + 4 * d));
    forms.push(and(parts));
  }
  return or(forms);
}

function probeIdForms(id: unknown): string {
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{16}$/.test(id)) throw bad('probeId must be 16 hex digits');
  const hi = parseInt(id.slice(0, 8), 16);
  const lo = parseInt(id.slice(8), 16);
  const raw = atAnyDepth(PROBE_ETHERTYPE, (b) => [
    `ether[${b}:4] = ${hex(PROBE_MAGIC, 8)}`,
    `ether[${b + PROBE_ID_OFFSET}:4] = ${hex(hi, 8)}`,
    `ether[${b + PROBE_ID_OFFSET + 4}:4] = ${hex(lo, 8)}`,
  ]);
  const overUdp = and([
    `udp port ${PROBE_UDP_PORT}`,
    `udp[${8 + PROBE_ID_OFFSET}:4] = ${hex(hi, 8)}`,
    `udp[${8 + PROBE_ID_OFFSET + 4}:4] = ${hex(lo, 8)}`,
  ]);
  return or([raw, overUdp]);
}

/** One condition object without VLAN wrapping (valid at whatever VLAN depth it is used). */
function inner(c: FilterCond, top: boolean): string {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad('a condition must be an object');
  for (const k of Object.keys(c)) if (!KEYS.has(k as keyof FilterCond)) throw bad(`unknown condition '${k.slice(0, 40).replace(/[^\w]/g, '?')}'`);
  if (!top && (c.vlan !== undefined || c.tagged !== undefined)) throw bad('vlan and tagged are only allowed at the top level');
  const parts: string[] = [];
  if (c.srcMac !== undefined) parts.push(`ether src ${checked(() => parseMac(c.srcMac), 'srcMac')}`);
  if (c.dstMac !== undefined) parts.push(`ether dst ${checked(() => parseMac(c.dstMac), 'dstMac')}`);
  if (c.mac !== undefined) parts.push(`ether host ${checked(() => parseMac(c.mac), 'mac')}`);
  if (c.etherType !== undefined) {
    const t = u(c.etherType, 'etherType', 0xffff);
    if (t < 0x0600) throw bad('etherType must be ≥ 0x0600');
    parts.push(`ether proto ${hex(t, 4)}`);
  }
  if (c.arp !== undefined) parts.push(c.arp ? 'arp' : 'not arp');
  if (c.ip !== undefined) parts.push(`host ${checked(() => parseIPv4(c.ip), 'ip')}`);
  if (c.srcIp !== undefined) parts.push(`src host ${checked(() => parseIPv4(c.srcIp), 'srcIp')}`);
  if (c.dstIp !== undefined) parts.push(`dst host ${checked(() => parseIPv4(c.dstIp), 'dstIp')}`);
  if (c.ipProto !== undefined) {
    if (c.ipProto === 'udp' || c.ipProto === 'tcp' || c.ipProto === 'icmp') parts.push(c.ipProto);
    else parts.push(`ip proto ${u(c.ipProto, 'ipProto', 255)}`);
  }
  if (c.udpPort !== undefined) parts.push(`udp port ${port(c.udpPort, 'udpPort')}`);
  if (c.srcUdpPort !== undefined) parts.push(`udp src port ${port(c.srcUdpPort, 'srcUdpPort')}`);
  if (c.dstUdpPort !== undefined) parts.push(`udp dst port ${port(c.dstUdpPort, 'dstUdpPort')}`);
  if (c.dhcpXid !== undefined) {
    const xid = u(c.dhcpXid, 'dhcpXid', 0xffffffff);
    parts.push(and(['udp port 67 or udp port 68', `udp[12:4] = ${hex(xid, 8)}`]));
  }
  if (c.probeId !== undefined) parts.push(probeIdForms(c.probeId));
  if (c.and !== undefined) {
    if (!Array.isArray(c.and) || c.and.length === 0) throw bad('and needs a non-empty list');
    parts.push(and(c.and.map((x) => inner(x, false)).filter((s) => s !== '')));
  }
  if (c.or !== undefined) {
    if (!Array.isArray(c.or) || c.or.length === 0) throw bad('or needs a non-empty list');
    const alts = c.or.map((x) => inner(x, false));
    if (alts.some((s) => s === '')) parts.push(''); // an empty alternative matches everything
    else parts.push(or(alts));
  }
  if (c.not !== undefined) {
    const n = inner(c.not, false);
    if (n === '') throw bad('not of an empty condition matches nothing');
    parts.push(`not (${n})`);
  }
  const real = parts.filter((p) => p !== '');
  if (real.length === 0) return '';
  return and(real);
}

/** BPF text for `cond`: matches untagged, single-tagged and QinQ frames alike unless vlan/tagged say otherwise. */
export function buildFilter(cond: FilterCond): string {
  const f = inner(cond, true);
  let vids: number[] | undefined;
  if (cond.vlan !== undefined) {
    const list = Array.isArray(cond.vlan) ? cond.vlan : [cond.vlan];
    if (list.length === 0 || list.length > MAX_DEPTH) throw bad(`vlan must be a VID or a list of 1..${MAX_DEPTH} VIDs`);
    vids = list.map((v) => checked(() => assertVlanId(v, { allowZero: true }), 'vlan'));
  }
  if (cond.tagged !== undefined && typeof cond.tagged !== 'boolean') throw bad('tagged must be true or false');
  if (vids !== undefined && cond.tagged === false) throw bad('vlan and tagged: false contradict each other');
  if (vids !== undefined) {
    const head = vids.map((v) => `vlan ${v}`).join(' and ');
    if (vids.length === MAX_DEPTH) return f === '' ? head : `${head} and (${f})`;
    return f === '' ? head : `${head} and ((${f}) or (vlan and (${f})))`;
  }
  const anyTag = f === '' ? 'vlan' : `vlan and ((${f}) or (vlan and (${f})))`;
  if (cond.tagged === true) return anyTag;
  // keyword offsets must be evaluated before any `vlan` keyword: F first
  if (cond.tagged === false) return f === '' ? 'not vlan' : `(${f}) and not vlan`;
  if (f === '') return '';
  return `(${f}) or (${anyTag})`;
}
