/**
 * ICMPv4 (RFC 792, RFC 1191): echo request/reply, destination unreachable (incl.
 * fragmentation needed with the next-hop MTU), redirect, time exceeded, parameter
 * problem. Error messages quote the offending datagram (IPv4 header + at least 8
 * bytes); it is decoded into `quoted` (IPv4 + UDP/ICMP header) for matching.
 *
 *   0      1      2          4                 8
 *   | type | code | checksum | rest of header | data / quoted datagram ...
 */
import type { DecodeCtx, LayerCodec } from './codec.js';
import { WireError, truncated } from './errors.js';
import { ipv4, isFragment } from './ipv4.js';
import type { IcmpRepr, Layer } from './types.js';
import { udp } from './udp.js';
import { checksum, hexLength, readIp, readU16, readU32, toHex, uint, writeHex, writeIp, writeU16, writeU32 } from './util.js';

export const field = { TYPE: 0, CODE: 1, CHECKSUM: 2, ID: 4, SEQ: 6, MTU: 6, GATEWAY: 4, POINTER: 4, DATA: 8 } as const;
export const HEADER_LEN = 8;

export const ICMP_TYPE: Readonly<Record<number, string>> = {
  0: 'echo-reply',
  3: 'dest-unreachable',
  4: 'source-quench',
  5: 'redirect',
  8: 'echo-request',
  9: 'router-advertisement',
  10: 'router-solicitation',
  11: 'time-exceeded',
  12: 'parameter-problem',
  13: 'timestamp',
  14: 'timestamp-reply',
  17: 'address-mask-request',
  18: 'address-mask-reply',
};

export const UNREACH_CODE: Readonly<Record<number, string>> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  4: 'fragmentation-needed',
  5: 'source-route-failed',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};

/** Types whose rest-of-header is identifier + sequence. */
const ID_SEQ = new Set([0, 8, 13, 14, 15, 16, 17, 18]);
/** Types that quote the datagram that caused them. */
export const ERROR_TYPES: ReadonlySet<number> = new Set([3, 4, 5, 11, 12]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const QUOTE_CTX: DecodeCtx = { ipOffset: -1, quoted: true };

/** Decode a quoted datagram as far as it goes; never throws (what fails becomes raw). */
export function decodeQuoted(buf: Uint8Array, off: number, end: number): Layer[] {
  const out: Layer[] = [];
  try {
    const ip = ipv4.decode(buf, off, end, QUOTE_CTX);
    out.push(ip.value);
    let p = off + ip.length;
    if (!isFragment(ip.value)) {
      if (ip.value.protocol === 17 && end - p >= 8) {
        const u = udp.decode(buf, p, end, QUOTE_CTX);
        out.push(u.value);
        p += 8;
      } else if (ip.value.protocol === 1 && end - p >= 8) {
        const c = icmp.decode(buf, p, end, QUOTE_CTX);
        out.push(c.value);
        p = end;
      }
    }
    if (p < end) out.push({ layer: 'raw', data: toHex(buf, p, end) });
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    out.push({ layer: 'raw', data: toHex(buf, off, end) });
  }
  return out;
}

export const icmp: LayerCodec<IcmpRepr> = {
  decode(buf, off, end, ctx) {
    if (end - off < HEADER_LEN) throw truncated('icmp', off, HEADER_LEN, end - off);
    const type = buf[off]!;
    const code = buf[off + 1]!;
    const csum = readU16(buf, off + 2);
    const v: Mutable<IcmpRepr> = { layer: 'icmp', type, code, data: toHex(buf, off + 8, end) };
    if (ID_SEQ.has(type)) {
      v.id = readU16(buf, off + 4);
      v.seq = readU16(buf, off + 6);
    } else if (type === 3 && code === 4) {
      v.nextHopMtu = readU16(buf, off + 6);
      const unused = readU16(buf, off + 4);
      if (unused !== 0) v.restOfHeader = readU32(buf, off + 4);
    } else if (type === 5) {
      v.gateway = readIp(buf, off + 4);
    } else if (type === 12) {
      v.pointer = buf[off + 4]!;
      const rest = readU32(buf, off + 4) & 0xffffff;
      if (rest !== 0) v.restOfHeader = readU32(buf, off + 4);
    } else {
      v.restOfHeader = readU32(buf, off + 4);
    }
    v.checksum = csum;
    if (!ctx.quoted) {
      v.checksumOk = checksum(buf, off, end) === 0;
      if (ERROR_TYPES.has(type) && end - off > HEADER_LEN) v.quoted = decodeQuoted(buf, off + 8, end);
    }
    return { value: v, length: end - off, end };
  },
  headerLength: (r) => HEADER_LEN + hexLength(r.data, 'icmp', 'data'),
  encodeInto(r, buf, off, ctx) {
    const n = HEADER_LEN + writeHex(r.data, buf, off + 8, 'icmp', 'data');
    buf[off] = uint(r.type, 8, 'icmp', 'type');
    buf[off + 1] = uint(r.code, 8, 'icmp', 'code');
    writeU16(buf, off + 2, 0);
    if (r.restOfHeader !== undefined) writeU32(buf, off + 4, uint(r.restOfHeader, 32, 'icmp', 'restOfHeader'));
    else writeU32(buf, off + 4, 0);
    if (r.id !== undefined) writeU16(buf, off + 4, uint(r.id, 16, 'icmp', 'id'));
    if (r.seq !== undefined) writeU16(buf, off + 6, uint(r.seq, 16, 'icmp', 'seq'));
    if (r.nextHopMtu !== undefined) writeU16(buf, off + 6, uint(r.nextHopMtu, 16, 'icmp', 'nextHopMtu'));
    if (r.gateway !== undefined) writeIp(r.gateway, buf, off + 4, 'icmp', 'gateway');
    if (r.pointer !== undefined) buf[off + 4] = uint(r.pointer, 8, 'icmp', 'pointer');
    const csum = ctx.opts.fixChecksums || r.checksum === undefined ? checksum(buf, off, off + n + ctx.payloadLength) : uint(r.checksum, 16, 'icmp', 'checksum');
    writeU16(buf, off + 2, csum);
    return n;
  },
};
