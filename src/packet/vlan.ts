/**
 * 802.1Q / 802.1ad tag (4 bytes after the TPID the previous layer announced).
 *
 *   0           2          4
 *   | PCP DEI VID | ethertype |
 *
 * A stack of tags is recursion: each tag's etherType names the next TPID
 * (0x88a8 → 0x8100 → 0x0800). VID 4095 is reserved and refused on encode.
 */
import type { LayerCodec } from './codec.js';
import { malformed, truncated } from './errors.js';
import type { VlanRepr } from './types.js';
import { readU16, uint, writeU16 } from './util.js';

export const field = { TCI: 0, ETHERTYPE: 2 } as const;
export const HEADER_LEN = 4;
/** TPIDs decoded as VLAN tags */
export const VLAN_TPIDS: readonly number[] = [0x8100, 0x88a8, 0x9100];

/** Decodes the 4 bytes after a TPID; `tpid` is the EtherType the previous layer carried. */
export function decodeVlan(buf: Uint8Array, off: number, end: number, tpid = 0x8100): VlanRepr {
  if (end - off < HEADER_LEN) throw truncated('vlan', off, HEADER_LEN, end - off);
  const tci = readU16(buf, off);
  return { layer: 'vlan', tpid, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff, etherType: readU16(buf, off + 2) };
}

export const vlan: LayerCodec<VlanRepr> = {
  decode(buf, off, end) {
    return { value: decodeVlan(buf, off, end), length: HEADER_LEN, end };
  },
  headerLength: () => HEADER_LEN,
  encodeInto(r, buf, off) {
    const vid = uint(r.vid, 12, 'vlan', 'vid');
    if (vid === 4095) throw malformed('vlan', off, 'VID 4095 is reserved');
    const tci = (uint(r.pcp, 3, 'vlan', 'pcp') << 13) | (r.dei ? 0x1000 : 0) | vid;
    writeU16(buf, off, tci);
    writeU16(buf, off + 2, uint(r.etherType, 16, 'vlan', 'etherType'));
    return HEADER_LEN;
  },
};
