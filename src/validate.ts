/**
 * Validators for every name and value that reaches a host tool, a BPF filter or
 * the wire. Each returns the canonical form or throws StethError('EINVAL').
 * Nothing here touches the host: existence checks live in src/host.
 */
import { invalid } from './errors.js';

const IFNAMSIZ = 16; // including the trailing NUL

/** Linux interface name: 1..15 bytes, no '/', no whitespace, not '.' or '..'. We are
 *  stricter than the kernel: [A-Za-z0-9_.:@-] only, so nothing can be mistaken for
 *  an option, a path or a shell word. */
export function assertIfName(name: unknown, what = 'interface name'): string {
  if (typeof name !== 'string' || name.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw invalid(`${what} '${printable(name)}' is longer than ${IFNAMSIZ - 1} bytes`);
  if (name === '.' || name === '..' || name.startsWith('-') || !/^[A-Za-z0-9_.:@-]+$/.test(name)) {
    throw invalid(`${what} '${printable(name)}' has characters an interface name cannot have`, 'allowed: letters, digits, _ . : @ -');
  }
  return name;
}

/** Network namespace name as used by `ip netns` (a file under /run/netns). */
export function assertNetnsName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw invalid('namespace name must be 1..64 characters');
  if (name === '.' || name === '..' || name.startsWith('-') || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw invalid(`namespace name '${printable(name)}' has characters a namespace name cannot have`);
  }
  return name;
}

/** OVS bridge / port names follow interface rules. */
export const assertBridgeName = (name: unknown): string => assertIfName(name, 'bridge name');

/** MAC address in any of aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff; returns lower-case colon form. */
export function parseMac(mac: unknown): string {
  if (typeof mac !== 'string') throw invalid('MAC address must be a string');
  const hex = mac.trim().toLowerCase();
  let digits: string | undefined;
  if (/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/.test(hex)) digits = hex.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(hex)) digits = hex.replace(/\./g, '');
  else if (/^[0-9a-f]{12}$/.test(hex)) digits = hex;
  if (digits === undefined) throw invalid(`'${printable(mac)}' is not a MAC address`, 'expected aa:bb:cc:dd:ee:ff');
  return digits.match(/../g)!.join(':');
}

/** 802.1Q VLAN id usable on the wire: 1..4094 (0 = priority tag only, 4095 reserved). */
export function assertVlanId(vid: unknown, opts: { allowZero?: boolean } = {}): number {
  const n = typeof vid === 'string' && /^\d+$/.test(vid) ? Number(vid) : vid;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(`VLAN id '${printable(String(vid))}' is not a whole number`);
  const min = opts.allowZero ? 0 : 1;
  if (n < min || n > 4094) throw invalid(`VLAN id ${n} is out of range ${min}..4094`, n === 4095 ? '4095 is reserved (OVS uses it as the dead VLAN)' : undefined);
  return n;
}

/** Parse "100-199,300" into a sorted, de-duplicated list of VLAN ids. */
export function parseVlanSet(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) throw invalid(`'${printable(p)}' is not a VLAN id or range`, 'expected e.g. 100-199,300');
    const lo = assertVlanId(Number(m[1]));
    const hi = m[2] === undefined ? lo : assertVlanId(Number(m[2]));
    if (hi < lo) throw invalid(`VLAN range ${p} is reversed`);
    for (let v = lo; v <= hi; v++) out.add(v);
  }
  if (out.size === 0) throw invalid('empty VLAN set');
  return [...out].sort((a, b) => a - b);
}

/** Dotted-quad IPv4 address, canonical form (no leading zeros). */
export function parseIPv4(ip: unknown): string {
  if (typeof ip !== 'string') throw invalid('IPv4 address must be a string');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) throw invalid(`'${printable(ip)}' is not an IPv4 address`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw invalid(`'${printable(ip)}' is not an IPv4 address`);
  return parts.join('.');
}

/** "10.0.0.1/24" → {address, prefix}. */
export function parseCidr(cidr: unknown): { address: string; prefix: number; text: string } {
  if (typeof cidr !== 'string') throw invalid('CIDR must be a string');
  const [addr, len, ...rest] = cidr.trim().split('/');
  if (rest.length > 0 || addr === undefined || len === undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) {
    throw invalid(`'${printable(cidr)}' is not an IPv4 CIDR`, 'expected e.g. 10.0.0.1/24');
  }
  const address = parseIPv4(addr);
  const prefix = Number(len);
  return { address, prefix, text: `${address}/${prefix}` };
}

/** Neutron port / network ids: UUIDs (with or without dashes). */
export function assertUuid(id: unknown, what = 'id'): string {
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id)) {
    throw invalid(`${what} '${printable(String(id))}' is not a UUID`);
  }
  return id.toLowerCase();
}

/** TCP/UDP port 1..65535. */
export function assertPort(port: unknown): number {
  const n = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw invalid(`port '${printable(String(port))}' is out of range 1..65535`);
  return n;
}

/** Keep error messages single-line and free of control characters. */
export function printable(s: string): string {
  const clipped = s.length > 64 ? `${s.slice(0, 64)}…` : s;
  return clipped.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
