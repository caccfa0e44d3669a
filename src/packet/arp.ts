/**
 * ARP for Ethernet / IPv4 (RFC 826). Other hardware or protocol types decode as
 * UNSUPPORTED (their addresses have other lengths), never as garbage.
 *
 *   0     2     4    5    6    8     14    18    24    28
 *   | htype | ptype | hlen | plen | op | sha | spa | tha | tpa |
 */
import type { LayerCodec } from './codec.js';
import { truncated, unsupported } from './errors.js';
import type { ArpRepr } from './types.js';
import { readIp, readMac, readU16, uint, writeIp, writeMac, writeU16 } from './util.js';

export const field = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OP: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24 } as const;
export const HEADER_LEN = 28;

export const ARP_OP: Readonly<Record<number, string>> = { 1: 'request', 2: 'reply', 3: 'rarp-request', 4: 'rarp-reply', 8: 'inarp-request', 9: 'inarp-reply' };

export const arp: LayerCodec<ArpRepr> = {
  decode(buf, off, end) {
    if (end - off < 8) throw truncated('arp', off, 8, end - off);
    const htype = readU16(buf, off);
    const ptype = readU16(buf, off + 2);
    if (htype !== 1 || ptype !== 0x0800 || buf[off + 4] !== 6 || buf[off + 5] !== 4) {
      throw unsupported('arp', off, `hardware type ${htype}/${buf[off + 4]} bytes, protocol 0x${ptype.toString(16)}/${buf[off + 5]} bytes (only Ethernet/IPv4)`);
    }
    if (end - off < HEADER_LEN) throw truncated('arp', off, HEADER_LEN, end - off);
    const value: ArpRepr = {
      layer: 'arp',
      op: readU16(buf, off + 6),
      senderMac: readMac(buf, off + 8),
      senderIp: readIp(buf, off + 14),
      targetMac: readMac(buf, off + 18),
      targetIp: readIp(buf, off + 24),
    };
    return { value, length: HEADER_LEN, end: off + HEADER_LEN };
  },
  headerLength: () => HEADER_LEN,
  encodeInto(r, buf, off) {
    writeU16(buf, off, 1);
    writeU16(buf, off + 2, 0x0800);
    buf[off + 4] = 6;
    buf[off + 5] = 4;
    writeU16(buf, off + 6, uint(r.op, 16, 'arp', 'op'));
    writeMac(r.senderMac, buf, off + 8, 'arp', 'senderMac');
    writeIp(r.senderIp, buf, off + 14, 'arp', 'senderIp');
    writeMac(r.targetMac, buf, off + 18, 'arp', 'targetMac');
    writeIp(r.targetIp, buf, off + 24, 'arp', 'targetIp');
    return HEADER_LEN;
  },
};
