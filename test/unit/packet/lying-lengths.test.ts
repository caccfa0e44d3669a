/**
 * Lengths and fields that lie, for the protocols the DHCP-based table in malformed.test.ts
 * does not reach (ARP, ICMP quotes, VXLAN, the steth probe), and open enums as they print.
 * Each row: what the decoder reports (a WireError code at a layer, or a field), that every
 * layer before the problem is kept, and that the frame re-encodes byte for byte.
 */
import test from 'ava';
import { decodeFrame, encodeFrame, findLayer, summarize, WireError, type Layer } from '../../../src/packet/index.js';
import { arpRequest, dhcpDiscover, probeFrame } from '../../../src/packet/builders.js';
import { vectorFrames } from './vectors.js';

const off = { fixLengths: false, fixChecksums: false, fixNextProtocol: false, pad: false };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const ARP = encodeFrame(arpRequest({ senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetIp: '10.0.0.2' }));
const FRAG_NEEDED = vectorFrames('icmp.pcap')[9]!; // ICMP 3/4, mtu 1280, quoting IPv4 + ICMP echo
const VXLAN = vectorFrames('vxlan.pcap')[2]!;
const PROBE = encodeFrame(probeFrame({ srcMac: '02:00:00:00:00:01', dstMac: 'ff:ff:ff:ff:ff:ff', probeId: '0123456789abcdef', seq: 1, origin: 'compute-1', sentNs: 1n }));
const Q = 14 + 20 + 8; // the quoted datagram inside FRAG_NEEDED
const P = 14; // the probe header inside PROBE

interface Row {
  name: string;
  frame: Uint8Array;
  mutate?: (b: Uint8Array) => void;
  cut?: number;
  code?: WireError['code'];
  layer?: string;
  offset?: number;
  /** the layers kept before the problem (raw excluded) */
  kept: string[];
  check?: (layers: Layer[]) => boolean;
}

const rows: Row[] = [
  // ARP: only Ethernet/IPv4 is ARP we decode; a lying hlen/plen is UNSUPPORTED, never garbage addresses
  { name: 'ARP hlen 200', frame: ARP, mutate: (b) => (b[14 + 4] = 200), code: 'UNSUPPORTED', layer: 'arp', offset: 14, kept: ['ethernet'] },
  { name: 'ARP plen 16 (IPv6-sized)', frame: ARP, mutate: (b) => (b[14 + 5] = 16), code: 'UNSUPPORTED', layer: 'arp', offset: 14, kept: ['ethernet'] },
  { name: 'ARP cut after the 8-byte fixed part', frame: ARP, cut: 14 + 20, code: 'TRUNCATED', layer: 'arp', offset: 14, kept: ['ethernet'] },
  // ICMP errors quote a datagram that is truncated by nature: lies inside it are reported, never thrown
  {
    name: 'ICMP quote: quoted IPv4 total length 4095 (beyond the quote)',
    frame: FRAG_NEEDED,
    mutate: (b) => b.set([0x0f, 0xff], Q + 2),
    kept: ['ethernet', 'ipv4', 'icmp'],
    check: (l) => {
      const i = findLayer(l, 'icmp')!;
      return i.nextHopMtu === 1280 && i.checksumOk === false && i.quoted!.map((x) => x.layer).join() === 'ipv4,icmp';
    },
  },
  {
    name: 'ICMP quote: quoted IPv4 header length 15 (40 option bytes)',
    frame: FRAG_NEEDED,
    mutate: (b) => (b[Q] = 0x4f),
    kept: ['ethernet', 'ipv4', 'icmp'],
    check: (l) => {
      const ip = findLayer(l, 'icmp')!.quoted![0]!;
      return ip.layer === 'ipv4' && ip.options!.length === 80;
    },
  },
  {
    name: 'ICMP quote: quoted IPv4 header length 1 → the quote stays raw bytes, the ICMP error is kept',
    frame: FRAG_NEEDED,
    mutate: (b) => (b[Q] = 0x41),
    kept: ['ethernet', 'ipv4', 'icmp'],
    check: (l) => {
      const i = findLayer(l, 'icmp')!;
      return i.nextHopMtu === 1280 && i.quoted!.length === 1 && i.quoted![0]!.layer === 'raw';
    },
  },
  { name: 'ICMP: outer IPv4 total length leaves 4 bytes of ICMP', frame: FRAG_NEEDED, mutate: (b) => b.set([0, 24], 14 + 2), code: 'TRUNCATED', layer: 'icmp', offset: 34, kept: ['ethernet', 'ipv4'] },
  // VXLAN: flags are reported as they are; the inner frame is held to the outer UDP length
  { name: 'VXLAN flags 0 (I bit clear) is a field, the inner frame still decodes', frame: VXLAN, mutate: (b) => (b[42] = 0), kept: ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'icmp'], check: (l) => findLayer(l, 'vxlan')!.flags === 0 },
  { name: 'VXLAN: outer UDP length leaves 10 bytes of the inner frame', frame: VXLAN, mutate: (b) => b.set([0, 8 + 8 + 10], 38), code: 'TRUNCATED', layer: 'ethernet', offset: 50, kept: ['ethernet', 'ipv4', 'udp', 'vxlan'] },
  // the steth probe: its length and origin-length fields are checked against each other and the frame
  { name: 'probe length 10 (< its own header)', frame: PROBE, mutate: (b) => b.set([0, 10], P + 6), code: 'MALFORMED', layer: 'probe', offset: P + 6, kept: ['ethernet'] },
  { name: 'probe length 4095 (beyond the frame)', frame: PROBE, mutate: (b) => b.set([0x0f, 0xff], P + 6), code: 'TRUNCATED', layer: 'probe', offset: P, kept: ['ethernet'] },
  { name: 'probe origin length 200 (beyond the probe length)', frame: PROBE, mutate: (b) => (b[P + 5] = 200), code: 'MALFORMED', layer: 'probe', offset: P + 6, kept: ['ethernet'] },
  { name: 'probe version 9', frame: PROBE, mutate: (b) => (b[P + 4] = 9), code: 'UNSUPPORTED', layer: 'probe', offset: P + 4, kept: ['ethernet'] },
  { name: 'probe with a bad magic on EtherType 0x88B5', frame: PROBE, mutate: (b) => (b[P] = 0), code: 'UNSUPPORTED', layer: 'probe', offset: P, kept: ['ethernet'] },
];

for (const r of rows) {
  test(`lying field: ${r.name}`, (t) => {
    const b = r.cut === undefined ? Uint8Array.from(r.frame) : Uint8Array.from(r.frame.subarray(0, r.cut));
    r.mutate?.(b);
    const { layers, error } = decodeFrame(b);
    t.is(error?.code, r.code, error?.message);
    if (r.code !== undefined) {
      t.true(error instanceof WireError);
      t.is(error?.layer, r.layer);
      t.is(error?.offset, r.offset);
    }
    t.deepEqual(layers.filter((l) => l.layer !== 'raw').map((l) => l.layer), r.kept);
    if (r.check) t.true(r.check(layers), JSON.stringify(layers).slice(0, 600));
    t.is(hex(encodeFrame(layers, off)), hex(b), 'lossless');
    // the one-line summary names the problem and never throws
    const line = summarize(layers, error);
    if (error) t.true(line.includes(`[${error.code} ${error.layer} at byte ${error.offset}]`), line);
  });
}

test('open enums print as unknown(N) and re-encode to the same byte: ARP op 99, DHCP type 250, ICMP type 42', (t) => {
  const arp = Uint8Array.from(ARP);
  arp[14 + 7] = 99;
  const a = decodeFrame(arp);
  t.is(findLayer(a.layers, 'arp')!.op, 99);
  t.regex(summarize(a.layers), /ARP unknown\(99\) 10\.0\.0\.1/);
  t.is(hex(encodeFrame(a.layers, off)), hex(arp));

  const dhcp = encodeFrame(dhcpDiscover({ mac: '02:00:00:00:00:02', xid: 7 }));
  const at = hex(dhcp).indexOf('350101') / 2; // option 53, length 1, DISCOVER
  t.true(at > 0);
  const d = Uint8Array.from(dhcp);
  d[at + 2] = 250;
  const dd = decodeFrame(d);
  t.regex(summarize(dd.layers), /DHCP unknown\(250\)/);
  t.is(hex(encodeFrame(dd.layers, off)), hex(d));

  const ic = Uint8Array.from(FRAG_NEEDED);
  ic[14 + 20] = 42;
  const i = decodeFrame(ic);
  t.is(findLayer(i.layers, 'icmp')!.type, 42);
  t.regex(summarize(i.layers), /ICMP unknown\(42\)/);
  t.is(hex(encodeFrame(i.layers, off)), hex(ic));

  // known values print by name (the table is used, not a fallback for everything)
  t.regex(summarize(decodeFrame(ARP).layers), /ARP request/);
  t.regex(summarize(decodeFrame(dhcp).layers), /DHCP DISCOVER/);
});
