/**
 * steth's probe payload: EtherType 0x88B5 (IEEE local experimental 1) or UDP port 5899.
 * Any capture point recognises a probe by its magic and id and times it by sentNs.
 *
 *   0       4    5      6        8         16    20       28
 *   | "sTH1" | ver | olen | length | probeId | seq | sentNs | origin (olen) | fill (zeros) |
 *
 * `length` is the whole payload (header + origin + fill), so Ethernet padding after a
 * short probe is not mistaken for fill.
 */
import { randomBytes } from 'node:crypto';
import type { LayerCodec } from './codec.js';
import { malformed, truncated, unsupported } from './errors.js';
import type { ProbeRepr } from './types.js';
import { readU16, readU32, toHex, uint, writeHex, writeU16, writeU32, zeroFill } from './util.js';

export const field = { MAGIC: 0, VERSION: 4, ORIGIN_LEN: 5, LENGTH: 6, PROBE_ID: 8, SEQ: 16, SENT_NS: 20, ORIGIN: 28 } as const;
export const HEADER_LEN = 28;
export const MAGIC = 0x73544831; // "sTH1"
export const VERSION = 1;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const enc = new TextEncoder();

/** A fresh random probe id (16 hex digits). */
export function newProbeId(): string {
  return randomBytes(8).toString('hex');
}

/** Cheap check used by capture filters and collectors: does this payload start a probe? */
export function isProbePayload(buf: Uint8Array, off: number): boolean {
  return buf.length - off >= HEADER_LEN && readU32(buf, off) === MAGIC;
}

function originBytes(origin: string): Uint8Array {
  if (typeof origin !== 'string') throw malformed('probe', -1, 'origin must be a string');
  const b = enc.encode(origin);
  if (b.length > 255) throw malformed('probe', -1, `origin is ${b.length} bytes (max 255)`);
  return b;
}

export const probe: LayerCodec<ProbeRepr> = {
  decode(buf, off, end) {
    if (end - off < HEADER_LEN) throw truncated('probe', off, HEADER_LEN, end - off);
    if (readU32(buf, off) !== MAGIC) throw unsupported('probe', off, 'not a steth probe (bad magic)');
    const version = buf[off + 4]!;
    if (version !== VERSION) throw unsupported('probe', off + 4, `probe version ${version}`);
    const olen = buf[off + 5]!;
    const length = readU16(buf, off + 6);
    if (length < HEADER_LEN + olen) throw malformed('probe', off + 6, `length ${length} < header + origin ${HEADER_LEN + olen}`);
    if (end - off < length) throw truncated('probe', off, length, end - off);
    let origin: string;
    try {
      origin = utf8.decode(buf.subarray(off + HEADER_LEN, off + HEADER_LEN + olen));
    } catch {
      throw malformed('probe', off + HEADER_LEN, 'origin is not UTF-8');
    }
    for (let i = off + HEADER_LEN + olen; i < off + length; i++) if (buf[i] !== 0) throw malformed('probe', i, 'fill bytes must be zero');
    const hi = readU32(buf, off + 20);
    const lo = readU32(buf, off + 24);
    const value: ProbeRepr = {
      layer: 'probe',
      probeId: toHex(buf, off + 8, off + 16),
      seq: readU32(buf, off + 16),
      sentNs: ((BigInt(hi) << 32n) | BigInt(lo)).toString(),
      origin,
      fill: length - HEADER_LEN - olen,
      version,
    };
    return { value, length, end: off + length };
  },
  headerLength: (r) => HEADER_LEN + originBytes(r.origin).length + (r.fill === undefined ? 0 : uint(r.fill, 16, 'probe', 'fill')),
  encodeInto(r, buf, off) {
    const o = originBytes(r.origin);
    const length = HEADER_LEN + o.length + (r.fill ?? 0);
    if (length > 0xffff) throw malformed('probe', off, `length ${length} > 65535`);
    if (typeof r.probeId !== 'string' || r.probeId.length !== 16) throw malformed('probe', off, 'probeId must be 16 hex digits');
    let ns: bigint;
    try {
      ns = BigInt(r.sentNs);
    } catch {
      throw malformed('probe', off, 'sentNs must be a decimal string');
    }
    if (ns < 0n || ns >= 1n << 64n || !/^\d+$/.test(r.sentNs)) throw malformed('probe', off, 'sentNs out of range');
    writeU32(buf, off, MAGIC);
    buf[off + 4] = uint(r.version ?? VERSION, 8, 'probe', 'version');
    buf[off + 5] = o.length;
    writeU16(buf, off + 6, length);
    writeHex(r.probeId, buf, off + 8, 'probe', 'probeId');
    writeU32(buf, off + 16, uint(r.seq, 32, 'probe', 'seq'));
    writeU32(buf, off + 20, Number(ns >> 32n));
    writeU32(buf, off + 24, Number(ns & 0xffffffffn));
    buf.set(o, off + HEADER_LEN);
    zeroFill(buf, off + HEADER_LEN + o.length, off + length);
    return length;
  },
};
