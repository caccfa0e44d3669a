/**
 * IPv4 header (RFC 791) with options, flags, fragment offset and header checksum.
 *
 *   0        1        2         4    6            8     9      10     12    16    20
 *   | ver/ihl | dscp/ecn | total len | id | flags/frag | ttl | proto | csum | src | dst | options |
 *
 * A wrong checksum is reported (checksumOk: false), not rejected. A total length past
 * the end of the captured bytes decodes (short: true) so the frame decoder can keep
 * the header and report TRUNCATED.
 */
import type { LayerCodec } from './codec.js';
import { malformed, truncated, unsupported } from './errors.js';
import type { Ipv4Repr } from './types.js';
import { checksum, hexLength, readIp, readU16, toHex, uint, writeHex, writeIp, writeU16, zeroFill } from './util.js';

export const field = { VER_IHL: 0, DSCP_ECN: 1, LENGTH: 2, IDENT: 4, FLAGS_FRAG: 6, TTL: 8, PROTOCOL: 9, CHECKSUM: 10, SRC: 12, DST: 16, OPTIONS: 20 } as const;
export const HEADER_LEN = 20;

export const IP_PROTO: Readonly<Record<number, string>> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 58: 'ipv6-icmp', 89: 'ospf', 112: 'vrrp', 132: 'sctp' };

export const ipv4: LayerCodec<Ipv4Repr> = {
  decode(buf, off, end, ctx) {
    if (end - off < HEADER_LEN) throw truncated('ipv4', off, HEADER_LEN, end - off);
    const verIhl = buf[off]!;
    if (verIhl >> 4 !== 4) throw unsupported('ipv4', off, `IP version ${verIhl >> 4}`);
    const hl = (verIhl & 15) * 4;
    if (hl < HEADER_LEN) throw malformed('ipv4', off, `header length ${hl} < 20`);
    if (end - off < hl) throw truncated('ipv4', off, hl, end - off);
    const length = readU16(buf, off + 2);
    if (length < hl) throw malformed('ipv4', off + 2, `total length ${length} < header length ${hl}`);
    const ff = readU16(buf, off + 6);
    const tos = buf[off + 1]!;
    const csum = readU16(buf, off + 10);
    const value: Ipv4Repr = {
      layer: 'ipv4',
      src: readIp(buf, off + 12),
      dst: readIp(buf, off + 16),
      protocol: buf[off + 9]!,
      ttl: buf[off + 8]!,
      id: readU16(buf, off + 4),
      df: (ff & 0x4000) !== 0,
      mf: (ff & 0x2000) !== 0,
      fragOffset: ff & 0x1fff,
      dscp: tos >> 2,
      ecn: tos & 3,
      reservedFlag: (ff & 0x8000) !== 0,
      options: hl > HEADER_LEN ? toHex(buf, off + HEADER_LEN, off + hl) : '',
      length,
      checksum: csum,
      checksumOk: checksum(buf, off, off + hl) === 0,
    };
    const short = off + length > end;
    void ctx;
    return { value, length: hl, end: short ? end : off + length, short };
  },
  headerLength(r) {
    const o = r.options ? hexLength(r.options, 'ipv4', 'options') : 0;
    const hl = HEADER_LEN + ((o + 3) & ~3);
    if (hl > 60) throw malformed('ipv4', -1, `options of ${o} bytes do not fit (max 40)`);
    return hl;
  },
  encodeInto(r, buf, off, ctx) {
    const hl = ipv4.headerLength(r);
    buf[off] = 0x40 | (hl >> 2);
    buf[off + 1] = (uint(r.dscp ?? 0, 6, 'ipv4', 'dscp') << 2) | uint(r.ecn ?? 0, 2, 'ipv4', 'ecn');
    const total = ctx.opts.fixLengths || r.length === undefined ? hl + ctx.payloadLength : r.length;
    if (total > 0xffff) throw malformed('ipv4', off, `total length ${total} > 65535`);
    writeU16(buf, off + 2, uint(total, 16, 'ipv4', 'length'));
    writeU16(buf, off + 4, uint(r.id, 16, 'ipv4', 'id'));
    writeU16(buf, off + 6, (r.reservedFlag ? 0x8000 : 0) | (r.df ? 0x4000 : 0) | (r.mf ? 0x2000 : 0) | uint(r.fragOffset, 13, 'ipv4', 'fragOffset'));
    buf[off + 8] = uint(r.ttl, 8, 'ipv4', 'ttl');
    buf[off + 9] = uint(r.protocol, 8, 'ipv4', 'protocol');
    buf[off + 10] = 0;
    buf[off + 11] = 0;
    writeIp(r.src, buf, off + 12, 'ipv4', 'src');
    writeIp(r.dst, buf, off + 16, 'ipv4', 'dst');
    if (hl > HEADER_LEN) {
      const n = r.options ? writeHex(r.options, buf, off + HEADER_LEN, 'ipv4', 'options') : 0;
      zeroFill(buf, off + HEADER_LEN + n, off + hl);
    }
    const csum = ctx.opts.fixChecksums || r.checksum === undefined ? checksum(buf, off, off + hl) : uint(r.checksum, 16, 'ipv4', 'checksum');
    writeU16(buf, off + 10, csum);
    return hl;
  },
};

/** True when this header is a fragment whose payload cannot be decoded alone. */
export function isFragment(r: Ipv4Repr): boolean {
  return r.mf || r.fragOffset !== 0;
}
