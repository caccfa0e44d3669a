/**
 * Byte helpers shared by the codecs: MAC / IPv4 / hex text <-> bytes without
 * intermediate allocations, the Internet checksum, and open-enum naming.
 * Writers validate their text input and throw WireError (encode side); readers assume
 * the caller bounds-checked the offset (decode side checks lengths first).
 */
import { WireError } from './errors.js';

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));
const NIB = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIB[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIB[97 + i] = 10 + i;
  NIB[65 + i] = 10 + i;
}

export const EMPTY = new Uint8Array(0);

export function hexByte(b: number): string {
  return HEX[b & 0xff]!;
}

/** char codes of each byte's two hex digits */
const HI = new Uint8Array(256);
const LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  HI[i] = HEX[i]!.charCodeAt(0);
  LO[i] = HEX[i]!.charCodeAt(1);
}
const fromCharCode = String.fromCharCode;

/** Lower-case hex of buf[start, end). */
export function toHex(buf: Uint8Array, start = 0, end = buf.length): string {
  const n = end - start;
  if (n > 48) return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('hex');
  // one string per 6 bytes (String.fromCharCode allocates once) rather than one per byte
  let s = '';
  let i = start;
  for (; i + 6 <= end; i += 6) s += hex6(buf, i);
  return i < end ? s + hexUpTo5(buf, i, end - i) : s;
}

function hex6(buf: Uint8Array, i: number): string {
  const a = buf[i]!, b = buf[i + 1]!, c = buf[i + 2]!, d = buf[i + 3]!, e = buf[i + 4]!, f = buf[i + 5]!;
  return fromCharCode(HI[a]!, LO[a]!, HI[b]!, LO[b]!, HI[c]!, LO[c]!, HI[d]!, LO[d]!, HI[e]!, LO[e]!, HI[f]!, LO[f]!);
}

/** n = 1..5 bytes at i (the caller checked they exist), in one allocation */
function hexUpTo5(buf: Uint8Array, i: number, n: number): string {
  const a = buf[i]!;
  if (n === 1) return HEX[a]!;
  const b = buf[i + 1]!;
  if (n === 2) return fromCharCode(HI[a]!, LO[a]!, HI[b]!, LO[b]!);
  const c = buf[i + 2]!;
  if (n === 3) return fromCharCode(HI[a]!, LO[a]!, HI[b]!, LO[b]!, HI[c]!, LO[c]!);
  const d = buf[i + 3]!;
  if (n === 4) return fromCharCode(HI[a]!, LO[a]!, HI[b]!, LO[b]!, HI[c]!, LO[c]!, HI[d]!, LO[d]!);
  const e = buf[i + 4]!;
  return fromCharCode(HI[a]!, LO[a]!, HI[b]!, LO[b]!, HI[c]!, LO[c]!, HI[d]!, LO[d]!, HI[e]!, LO[e]!);
}

function nib(code: number): number {
  return code < 128 ? NIB[code]! : -1;
}

/** Byte length of a hex string, or throws (odd length / non-hex characters). */
export function hexLength(hex: string, layer: string, field: string): number {
  if (typeof hex !== 'string' || (hex.length & 1) !== 0) throw new WireError('MALFORMED', layer, -1, `${field} must be an even-length hex string`);
  return hex.length >> 1;
}

/** Writes a hex string at off; returns bytes written. Validates every digit. */
export function writeHex(hex: string, buf: Uint8Array, off: number, layer = 'raw', field = 'data'): number {
  const n = hex.length >> 1;
  if ((hex.length & 1) !== 0) throw new WireError('MALFORMED', layer, off, `${field} must be an even-length hex string`);
  for (let i = 0; i < n; i++) {
    const hi = hex.charCodeAt(2 * i);
    const lo = hex.charCodeAt(2 * i + 1);
    // a non-hex digit is -1 in NIB, which makes the byte negative: one test per byte
    const b = (hi | lo) < 128 ? (NIB[hi]! << 4) | NIB[lo]! : -1;
    if (b < 0) throw new WireError('MALFORMED', layer, off, `${field} is not hex`);
    buf[off + i] = b;
  }
  return n;
}

export function hexToBytes(hex: string, layer = 'raw', field = 'data'): Uint8Array {
  const out = new Uint8Array(hexLength(hex, layer, field));
  writeHex(hex, out, 0, layer, field);
  return out;
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

export function readMac(buf: Uint8Array, off: number): string {
  const a = buf[off]!;
  const b = buf[off + 1]!;
  const c = buf[off + 2]!;
  const d = buf[off + 3]!;
  const e = buf[off + 4]!;
  const f = buf[off + 5]!;
  if ((a & b & c & d & e & f) === 255) return BROADCAST;
  // one flat string in one allocation (concatenation allocated one per piece, ending in a cons string)
  return fromCharCode(HI[a]!, LO[a]!, 58, HI[b]!, LO[b]!, 58, HI[c]!, LO[c]!, 58, HI[d]!, LO[d]!, 58, HI[e]!, LO[e]!, 58, HI[f]!, LO[f]!);
}

/** Colon-separated hex of n bytes (chaddr of any hlen). */
export function readColonHex(buf: Uint8Array, off: number, n: number): string {
  if (n === 6) return readMac(buf, off);
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ':' : '') + HEX[buf[off + i]!];
  return s;
}

/** Writes 'aa:bb:cc:dd:ee:ff' (also accepts '-' separators and bare 12 hex digits). */
export function writeMac(mac: string, buf: Uint8Array, off: number, layer: string, field: string): void {
  if (mac === BROADCAST) {
    buf[off] = buf[off + 1] = buf[off + 2] = buf[off + 3] = buf[off + 4] = buf[off + 5] = 255;
    return;
  }
  if (typeof mac === 'string' && mac.length === 17) {
    for (let i = 0; i < 6; i++) {
      const hi = nib(mac.charCodeAt(3 * i));
      const lo = nib(mac.charCodeAt(3 * i + 1));
      const sep = i < 5 ? mac.charCodeAt(3 * i + 2) : 58;
      if (hi < 0 || lo < 0 || (sep !== 58 && sep !== 45)) break;
      buf[off + i] = (hi << 4) | lo;
      if (i === 5) return;
    }
  } else if (typeof mac === 'string' && mac.length === 12 && /^[0-9a-fA-F]{12}$/.test(mac)) {
    writeHex(mac, buf, off, layer, field);
    return;
  }
  throw new WireError('MALFORMED', layer, off, `${field} '${String(mac).slice(0, 40)}' is not a MAC address`);
}

/** Byte count of a colon-hex string ('' → 0). */
export function colonHexLength(s: string, layer: string, field: string): number {
  if (typeof s !== 'string') throw new WireError('MALFORMED', layer, -1, `${field} must be a string`);
  if (s === '') return 0;
  if ((s.length + 1) % 3 !== 0) throw new WireError('MALFORMED', layer, -1, `${field} '${s.slice(0, 60)}' is not colon-separated hex`);
  return (s.length + 1) / 3;
}

export function writeColonHex(s: string, buf: Uint8Array, off: number, layer: string, field: string): number {
  const n = colonHexLength(s, layer, field);
  for (let i = 0; i < n; i++) {
    const hi = nib(s.charCodeAt(3 * i));
    const lo = nib(s.charCodeAt(3 * i + 1));
    const sep = i < n - 1 ? s.charCodeAt(3 * i + 2) : 58;
    if (hi < 0 || lo < 0 || (sep !== 58 && sep !== 45)) throw new WireError('MALFORMED', layer, off, `${field} '${s.slice(0, 60)}' is not colon-separated hex`);
    buf[off + i] = (hi << 4) | lo;
  }
  return n;
}

/** '0' .. '255' and '0.' .. '255.' */
const DEC: string[] = [];
const DECDOT: string[] = [];
for (let i = 0; i < 256; i++) {
  DEC.push(String(i));
  DECDOT.push(`${i}.`);
}

export function readIp(buf: Uint8Array, off: number): string {
  const a = buf[off]!;
  const b = buf[off + 1]!;
  const c = buf[off + 2]!;
  const d = buf[off + 3]!;
  if ((a | b | c | d) === 0) return '0.0.0.0';
  if ((a & b & c & d) === 255) return '255.255.255.255';
  // two halves of at most 8 characters (flat copies), joined once
  return DECDOT[a]! + DECDOT[b]! + (DECDOT[c]! + DEC[d]!);
}

/** Writes a dotted quad; strict (four decimal parts 0..255, no empty parts). */
export function writeIp(ip: string, buf: Uint8Array, off: number, layer: string, field: string): void {
  if (ip === '0.0.0.0') {
    buf[off] = buf[off + 1] = buf[off + 2] = buf[off + 3] = 0;
    return;
  }
  if (ip === '255.255.255.255') {
    buf[off] = buf[off + 1] = buf[off + 2] = buf[off + 3] = 255;
    return;
  }
  if (typeof ip === 'string' && ip.length >= 7 && ip.length <= 15) {
    let part = 0;
    let digits = 0;
    let idx = 0;
    let ok = true;
    for (let i = 0; i <= ip.length; i++) {
      const c = i < ip.length ? ip.charCodeAt(i) : 46;
      if (c === 46) {
        if (digits === 0 || part > 255 || idx > 3) {
          ok = false;
          break;
        }
        buf[off + idx++] = part;
        part = 0;
        digits = 0;
      } else if (c >= 48 && c <= 57 && digits < 3) {
        part = part * 10 + (c - 48);
        digits++;
      } else {
        ok = false;
        break;
      }
    }
    if (ok && idx === 4) return;
  }
  throw new WireError('MALFORMED', layer, off, `${field} '${String(ip).slice(0, 40)}' is not an IPv4 address`);
}

export function ipToInt(ip: string): number {
  const b = new Uint8Array(4);
  writeIp(ip, b, 0, 'ipv4', 'address');
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Unsigned integer field check for encoders. */
export function uint(v: unknown, bits: number, layer: string, field: string): number {
  const max = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new WireError('MALFORMED', layer, -1, `${field} must be an integer 0..${max}, got ${String(v).slice(0, 40)}`);
  }
  return v;
}

const fillU8 = Uint8Array.prototype.fill;

/** Zeroes buf[start, end) (the typed-array builtin: about twice as fast as Buffer#fill's wrapper). */
export function zeroFill(buf: Uint8Array, start: number, end: number): void {
  fillU8.call(buf, 0, start, end);
}

/** True when buf[start, end) holds only zero bytes (8 per turn). */
export function isZero(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  for (; i + 8 <= end; i += 8) if ((buf[i]! | buf[i + 1]! | buf[i + 2]! | buf[i + 3]! | buf[i + 4]! | buf[i + 5]! | buf[i + 6]! | buf[i + 7]!) !== 0) return false;
  for (; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** One's-complement sum of buf[start, end) (not folded, not inverted). */
export function sum16(buf: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start;
  // 8 bytes per turn; acc stays far below 2^53 for any frame (fold at the end)
  for (; i + 7 < end; i += 8) acc += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!) + ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) acc += buf[i]! << 8;
  return acc;
}

export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** The Internet checksum of buf[start, end), starting from a partial sum. */
export function checksum(buf: Uint8Array, start: number, end: number, acc = 0): number {
  return ~fold(sum16(buf, start, end, acc)) & 0xffff;
}

/** Open enums: the name of a known value or `unknown(N)`. */
export function enumName(table: Readonly<Record<number, string>>, v: number): string {
  return table[v] ?? `unknown(${v})`;
}

export function isHexString(s: unknown): s is string {
  return typeof s === 'string' && (s.length & 1) === 0 && /^[0-9a-f]*$/.test(s);
}
