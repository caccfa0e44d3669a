/**
 * UDP header (RFC 768) with the IPv4 pseudo-header checksum.
 *
 *   0          2          4        6          8
 *   | src port | dst port | length | checksum | payload ...
 *
 * On receive a checksum of 0 means "none" (checksumOk absent); on send a computed 0
 * is written as 0xffff.
 */
import type { LayerCodec } from './codec.js';
import { malformed, truncated } from './errors.js';
import type { UdpRepr } from './types.js';
import { fold, readU16, sum16, uint, writeIp, writeU16 } from './util.js';

export const field = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;
export const HEADER_LEN = 8;

const pseudo = new Uint8Array(8);

/** Pseudo-header partial sum from the addresses in an IPv4 header at ipOff. */
export function pseudoSum(buf: Uint8Array, ipOff: number, length: number): number {
  return sum16(buf, ipOff + 12, ipOff + 20, 17 + length);
}

export const udp: LayerCodec<UdpRepr> = {
  decode(buf, off, end, ctx) {
    if (end - off < HEADER_LEN) throw truncated('udp', off, HEADER_LEN, end - off);
    const length = readU16(buf, off + 4);
    const csum = readU16(buf, off + 6);
    const value: { -readonly [K in keyof UdpRepr]: UdpRepr[K] } = { layer: 'udp', srcPort: readU16(buf, off), dstPort: readU16(buf, off + 2), length, checksum: csum };
    if (ctx.quoted) return { value, length: HEADER_LEN, end, short: off + length > end };
    if (length < HEADER_LEN) throw malformed('udp', off + 4, `length ${length} < 8`);
    const short = off + length > end;
    if (csum !== 0 && !short && ctx.ipOffset >= 0) {
      value.checksumOk = fold(sum16(buf, off, off + length, pseudoSum(buf, ctx.ipOffset, length))) === 0xffff;
    }
    return { value, length: HEADER_LEN, end: short ? end : off + length, short };
  },
  headerLength: () => HEADER_LEN,
  encodeInto(r, buf, off, ctx) {
    writeU16(buf, off, uint(r.srcPort, 16, 'udp', 'srcPort'));
    writeU16(buf, off + 2, uint(r.dstPort, 16, 'udp', 'dstPort'));
    const length = ctx.opts.fixLengths || r.length === undefined ? HEADER_LEN + ctx.payloadLength : uint(r.length, 16, 'udp', 'length');
    if (length > 0xffff) throw malformed('udp', off, `length ${length} > 65535`);
    writeU16(buf, off + 4, length);
    let csum: number;
    if ((ctx.opts.fixChecksums || r.checksum === undefined) && ctx.ip) {
      writeU16(buf, off + 6, 0);
      writeIp(ctx.ip.src, pseudo, 0, 'ipv4', 'src');
      writeIp(ctx.ip.dst, pseudo, 4, 'ipv4', 'dst');
      const n = HEADER_LEN + ctx.payloadLength;
      csum = ~fold(sum16(buf, off, off + n, sum16(pseudo, 0, 8, 17 + length))) & 0xffff;
      if (csum === 0) csum = 0xffff;
    } else {
      csum = uint(r.checksum ?? 0, 16, 'udp', 'checksum');
    }
    writeU16(buf, off + 6, csum);
    return HEADER_LEN;
  },
};
