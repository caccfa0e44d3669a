/**
 * Ethernet II header.
 *
 *   0      6      12         14
 *   | dst  | src  | ethertype | payload ... | padding |
 *
 * The encoder pads the outermost frame to 60 bytes (no FCS) unless told not to;
 * `padding` keeps whatever trailed the payload on decode so it re-encodes byte for byte.
 */
import type { LayerCodec } from './codec.js';
import { truncated } from './errors.js';
import type { EthernetRepr } from './types.js';
import { hexLength, readMac, readU16, toHex, uint, writeHex, writeMac, writeU16 } from './util.js';

export const field = { DST: 0, SRC: 6, ETHERTYPE: 12 } as const;
export const HEADER_LEN = 14;
/** minimum frame without FCS */
export const MIN_FRAME = 60;

export const ethernet: LayerCodec<EthernetRepr> = {
  decode(buf, off, end) {
    if (end - off < HEADER_LEN) throw truncated('ethernet', off, HEADER_LEN, end - off);
    const value: EthernetRepr = { layer: 'ethernet', dst: readMac(buf, off), src: readMac(buf, off + 6), etherType: readU16(buf, off + 12) };
    return { value, length: HEADER_LEN, end };
  },
  headerLength: () => HEADER_LEN,
  trailerLength: (r) => (r.padding ? hexLength(r.padding, 'ethernet', 'padding') : 0),
  encodeInto(r, buf, off) {
    writeMac(r.dst, buf, off, 'ethernet', 'dst');
    writeMac(r.src, buf, off + 6, 'ethernet', 'src');
    writeU16(buf, off + 12, uint(r.etherType, 16, 'ethernet', 'etherType'));
    return HEADER_LEN;
  },
  encodeTrailer(r, buf, off) {
    if (r.padding) writeHex(r.padding, buf, off, 'ethernet', 'padding');
  },
};

export function paddingHex(buf: Uint8Array, start: number, end: number): string {
  return toHex(buf, start, end);
}
