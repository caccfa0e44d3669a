/**
 * BOOTP / DHCPv4 (RFC 951, RFC 2131, RFC 2132) with a lossless option list: order, pads,
 * END, unknown codes, what follows END and an unparseable tail are all kept and
 * re-encoded byte for byte (scapy's DHCPOptionsField idea). Typed accessors and
 * builders for option values live in dhcp-options.ts.
 *
 *   0    1     2    3    4   8    10    12     16     20     24     28      44     108    236    240
 *   | op | htype | hlen | hops | xid | secs | flags | ciaddr | yiaddr | siaddr | giaddr | chaddr | sname | file | magic | options ...
 */
import type { LayerCodec } from './codec.js';
import { malformed, truncated } from './errors.js';
import type { DhcpOptionRaw, DhcpRepr } from './types.js';
import { colonHexLength, hexLength, isZero, readColonHex, readIp, readU16, readU32, toHex, uint, writeColonHex, writeHex, writeIp, writeU16, writeU32, zeroFill } from './util.js';

export const field = {
  OP: 0, HTYPE: 1, HLEN: 2, HOPS: 3, XID: 4, SECS: 8, FLAGS: 10, CIADDR: 12, YIADDR: 16, SIADDR: 20, GIADDR: 24,
  CHADDR: 28, SNAME: 44, FILE: 108, MAGIC: 236, OPTIONS: 240,
} as const;
export const FIXED_LEN = 236;
export const MAGIC = 0x63825363;
export const FLAG_BROADCAST = 0x8000;

export const DHCP_MESSAGE_TYPE: Readonly<Record<number, string>> = {
  1: 'DISCOVER', 2: 'OFFER', 3: 'REQUEST', 4: 'DECLINE', 5: 'ACK', 6: 'NAK', 7: 'RELEASE', 8: 'INFORM',
  9: 'FORCERENEW', 10: 'LEASEQUERY', 11: 'LEASEUNASSIGNED', 12: 'LEASEUNKNOWN', 13: 'LEASEACTIVE',
};

const PAD: DhcpOptionRaw = Object.freeze({ code: 0 });
const END: DhcpOptionRaw = Object.freeze({ code: 255 });
const latin1 = new TextDecoder('latin1');

export interface ParsedOptions {
  options: DhcpOptionRaw[];
  tail?: string;
  malformed?: boolean;
}

/** Parse an option area losslessly; never throws. */
export function parseOptions(buf: Uint8Array, p: number, end: number): ParsedOptions {
  const options: DhcpOptionRaw[] = [];
  while (p < end) {
    const code = buf[p]!;
    if (code === 0) {
      options.push(PAD);
      p++;
      continue;
    }
    if (code === 255) {
      options.push(END);
      p++;
      return p < end ? { options, tail: toHex(buf, p, end) } : { options };
    }
    if (p + 2 > end || p + 2 + buf[p + 1]! > end) return { options, tail: toHex(buf, p, end), malformed: true };
    const len = buf[p + 1]!;
    options.push({ code, data: toHex(buf, p + 2, p + 2 + len) });
    p += 2 + len;
  }
  return { options };
}

const NO_TEXT = Object.freeze({ text: '' });

function text(buf: Uint8Array, start: number, size: number): { text: string; raw?: string } {
  const end = start + size;
  // fast path: an all-zero field (nearly every DHCP message)
  if (buf[start] === 0 && isZero(buf, start, end)) return NO_TEXT;
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  const t = nul === start ? '' : latin1.decode(buf.subarray(start, nul));
  for (let i = nul; i < end; i++) if (buf[i] !== 0) return { text: t, raw: toHex(buf, start, end) };
  return { text: t };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function optionsLength(options: readonly DhcpOptionRaw[]): number {
  let n = 0;
  for (const o of options) {
    if (o.code === 0 || o.code === 255) n += 1;
    else n += 2 + hexLength(o.data ?? '', 'dhcp', `option ${o.code}`);
  }
  return n;
}

export function writeOptions(options: readonly DhcpOptionRaw[], buf: Uint8Array, p: number): number {
  const start = p;
  for (const o of options) {
    const code = uint(o.code, 8, 'dhcp', 'option code');
    buf[p++] = code;
    if (code === 0 || code === 255) continue;
    const n = writeHex(o.data ?? '', buf, p + 1, 'dhcp', `option ${code}`);
    if (n > 255) throw malformed('dhcp', p, `option ${code} is ${n} bytes (max 255; split it, RFC 3396)`);
    buf[p] = n;
    p += 1 + n;
  }
  return p - start;
}

function writeText(s: string, raw: string | undefined, size: number, buf: Uint8Array, off: number, name: string): void {
  if (raw !== undefined) {
    if (hexLength(raw, 'dhcp', name + 'Raw') !== size) throw malformed('dhcp', off, `${name}Raw must be ${size} bytes`);
    writeHex(raw, buf, off, 'dhcp', name + 'Raw');
    return;
  }
  if (typeof s !== 'string') throw malformed('dhcp', off, `${name} must be a string`);
  if (s.length >= size) throw malformed('dhcp', off, `${name} is longer than ${size - 1} characters`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || c === 0) throw malformed('dhcp', off, `${name} has a character that is not Latin-1 text`);
    buf[off + i] = c;
  }
  zeroFill(buf, off + s.length, off + size);
}

export const dhcp: LayerCodec<DhcpRepr> = {
  decode(buf, off, end) {
    if (end - off < FIXED_LEN) throw truncated('dhcp', off, FIXED_LEN, end - off);
    const hlen = buf[off + 2]!;
    const n = hlen > 16 ? 16 : hlen;
    const sname = text(buf, off + 44, 64);
    const file = text(buf, off + 108, 128);
    const p = end - off >= 240 && readU32(buf, off + 236) === MAGIC ? parseOptions(buf, off + 240, end) : undefined;
    // one literal with every field the common message has; the rare ones follow in their order
    const v: Mutable<DhcpRepr> = {
      layer: 'dhcp',
      op: buf[off]!,
      htype: buf[off + 1]!,
      hlen,
      hops: buf[off + 3]!,
      xid: readU32(buf, off + 4),
      secs: readU16(buf, off + 8),
      flags: readU16(buf, off + 10),
      ciaddr: readIp(buf, off + 12),
      yiaddr: readIp(buf, off + 16),
      siaddr: readIp(buf, off + 20),
      giaddr: readIp(buf, off + 24),
      chaddr: readColonHex(buf, off + 28, n),
      sname: sname.text,
      file: file.text,
      options: p === undefined ? [] : p.options,
    };
    if (!isZero(buf, off + 28 + n, off + 44)) v.chaddrPadding = toHex(buf, off + 28 + n, off + 44);
    if (sname.raw !== undefined) v.snameRaw = sname.raw;
    if (file.raw !== undefined) v.fileRaw = file.raw;
    if (p === undefined) v.vend = toHex(buf, off + 236, end);
    else {
      if (p.tail !== undefined) v.tail = p.tail;
      if (p.malformed) v.malformed = true;
    }
    return { value: v, length: end - off, end };
  },
  headerLength(r) {
    if (r.vend !== undefined) return FIXED_LEN + hexLength(r.vend, 'dhcp', 'vend');
    return FIXED_LEN + 4 + optionsLength(r.options) + (r.tail ? hexLength(r.tail, 'dhcp', 'tail') : 0);
  },
  encodeInto(r, buf, off) {
    buf[off] = uint(r.op, 8, 'dhcp', 'op');
    buf[off + 1] = uint(r.htype, 8, 'dhcp', 'htype');
    buf[off + 2] = uint(r.hlen, 8, 'dhcp', 'hlen');
    buf[off + 3] = uint(r.hops, 8, 'dhcp', 'hops');
    writeU32(buf, off + 4, uint(r.xid, 32, 'dhcp', 'xid'));
    writeU16(buf, off + 8, uint(r.secs, 16, 'dhcp', 'secs'));
    writeU16(buf, off + 10, uint(r.flags, 16, 'dhcp', 'flags'));
    writeIp(r.ciaddr, buf, off + 12, 'dhcp', 'ciaddr');
    writeIp(r.yiaddr, buf, off + 16, 'dhcp', 'yiaddr');
    writeIp(r.siaddr, buf, off + 20, 'dhcp', 'siaddr');
    writeIp(r.giaddr, buf, off + 24, 'dhcp', 'giaddr');
    const cn = colonHexLength(r.chaddr, 'dhcp', 'chaddr');
    if (cn > 16) throw malformed('dhcp', off + 28, 'chaddr is longer than 16 bytes');
    writeColonHex(r.chaddr, buf, off + 28, 'dhcp', 'chaddr');
    if (r.chaddrPadding !== undefined) {
      if (hexLength(r.chaddrPadding, 'dhcp', 'chaddrPadding') !== 16 - cn) throw malformed('dhcp', off + 28, `chaddrPadding must be ${16 - cn} bytes`);
      writeHex(r.chaddrPadding, buf, off + 28 + cn, 'dhcp', 'chaddrPadding');
    } else zeroFill(buf, off + 28 + cn, off + 44);
    if (r.sname === '' && r.file === '' && r.snameRaw === undefined && r.fileRaw === undefined) zeroFill(buf, off + 44, off + 236);
    else {
      writeText(r.sname, r.snameRaw, 64, buf, off + 44, 'sname');
      writeText(r.file, r.fileRaw, 128, buf, off + 108, 'file');
    }
    if (r.vend !== undefined) return FIXED_LEN + writeHex(r.vend, buf, off + FIXED_LEN, 'dhcp', 'vend');
    writeU32(buf, off + 236, MAGIC);
    let p = off + 240 + writeOptions(r.options, buf, off + 240);
    if (r.tail) p += writeHex(r.tail, buf, p, 'dhcp', 'tail');
    return p - off;
  },
};
