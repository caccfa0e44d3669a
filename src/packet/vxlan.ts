/**
 * VXLAN header (RFC 7348), UDP port 4789; the payload is an Ethernet frame.
 *
 *   0       1            4     7          8
 *   | flags | reserved1  | VNI | reserved2 |
 */
import type { LayerCodec } from './codec.js';
import { truncated } from './errors.js';
import type { VxlanRepr } from './types.js';
import { uint } from './util.js';

export const field = { FLAGS: 0, RESERVED1: 1, VNI: 4, RESERVED2: 7 } as const;
export const HEADER_LEN = 8;
export const FLAG_I = 0x08;

export const vxlan: LayerCodec<VxlanRepr> = {
  decode(buf, off, end) {
    if (end - off < HEADER_LEN) throw truncated('vxlan', off, HEADER_LEN, end - off);
    const value: VxlanRepr = {
      layer: 'vxlan',
      flags: buf[off]!,
      vni: (buf[off + 4]! << 16) | (buf[off + 5]! << 8) | buf[off + 6]!,
      reserved1: (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!,
      reserved2: buf[off + 7]!,
    };
    return { value, length: HEADER_LEN, end };
  },
  headerLength: () => HEADER_LEN,
  encodeInto(r, buf, off) {
    buf[off] = uint(r.flags, 8, 'vxlan', 'flags');
    const r1 = uint(r.reserved1, 24, 'vxlan', 'reserved1');
    const vni = uint(r.vni, 24, 'vxlan', 'vni');
    buf[off + 1] = r1 >> 16;
    buf[off + 2] = (r1 >> 8) & 255;
    buf[off + 3] = r1 & 255;
    buf[off + 4] = vni >> 16;
    buf[off + 5] = (vni >> 8) & 255;
    buf[off + 6] = vni & 255;
    buf[off + 7] = uint(r.reserved2, 8, 'vxlan', 'reserved2');
    return HEADER_LEN;
  },
};
