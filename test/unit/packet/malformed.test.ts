/**
 * Malformed-input tables (gopacket dhcp_test.go style): truncated at every byte, lengths
 * that lie, option lengths past the end, 300 nested VLAN tags. Each row states what the
 * decoder must report; all of them must keep the layers decoded before the problem.
 */
import test from 'ava';
import { decodeFrame, encodeFrame, findLayer, vlanTags, WireError, type Layer } from '../../../src/packet/index.js';
import { vectorFrames } from './vectors.js';

const off = { fixLengths: false, fixChecksums: false, fixNextProtocol: false, pad: false };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const samples: Array<[string, Uint8Array]> = [
  ['arp request', vectorFrames('arping.pcap')[0]!],
  ['dhcp discover (udhcpc)', vectorFrames('dhcp-udhcpc.pcap')[0]!],
  ['dhcp ack (dnsmasq)', vectorFrames('dhcp-dhclient.pcap')[3]!],
  ['icmp frag needed', vectorFrames('icmp.pcap')[9]!],
  ['qinq arp', vectorFrames('qinq-ovs.pcap')[1]!],
  ['vxlan icmp', vectorFrames('vxlan.pcap')[2]!],
];

for (const [name, frame] of samples) {
  test(`${name}: truncated at every byte → TRUNCATED (or a clean shorter frame), earlier layers kept, lossless`, (t) => {
    const full = decodeFrame(frame).layers.filter((l) => l.layer !== 'raw').map((l) => l.layer);
    for (let n = 0; n < frame.length; n++) {
      const cut = frame.subarray(0, n);
      const { layers, error } = decodeFrame(cut);
      if (error) {
        t.true(error instanceof WireError);
        t.true(['TRUNCATED', 'MALFORMED', 'UNSUPPORTED'].includes(error.code));
        t.true(error.offset >= 0 && error.offset <= n, `offset ${error.offset} within the ${n} bytes`);
      }
      const kinds = layers.filter((l) => l.layer !== 'raw').map((l) => l.layer);
      t.deepEqual(kinds, full.slice(0, kinds.length), `cut at ${n}: a prefix of the full layer list`);
      t.is(hex(encodeFrame(layers, off)), hex(cut), `cut at ${n}: re-encodes to the same bytes`);
    }
  });
}

test('a frame cut inside the DHCP fixed part: the IPv4 total length is caught first (TRUNCATED at ipv4), Ethernet and IPv4 kept', (t) => {
  const f = vectorFrames('dhcp-udhcpc.pcap')[0]!;
  const { layers, error } = decodeFrame(f.subarray(0, 42 + 100));
  t.is(error?.code, 'TRUNCATED');
  t.is(error?.layer, 'ipv4', 'the IPv4 total length points past the end first');
  t.deepEqual(layers.map((l) => l.layer), ['ethernet', 'ipv4', 'raw']);
});

type Row = { name: string; mutate: (b: Uint8Array) => void; code: WireError['code'] | undefined; layer?: string; check?: (layers: Layer[]) => boolean };
const dhcpFrame = vectorFrames('dhcp-udhcpc.pcap')[0]!;
const rows: Row[] = [
  { name: 'IPv4 total length larger than the frame', mutate: (b) => b.set([0x0f, 0xff], 16), code: 'TRUNCATED', layer: 'ipv4' },
  { name: 'IPv4 total length smaller than its header', mutate: (b) => b.set([0x00, 0x10], 16), code: 'MALFORMED', layer: 'ipv4' },
  { name: 'IPv4 header length 4 (16 bytes)', mutate: (b) => (b[14] = 0x44), code: 'MALFORMED', layer: 'ipv4' },
  { name: 'IPv4 header length 15: 40 option bytes, UDP then starts inside BOOTP (length 0)', mutate: (b) => (b[14] = 0x4f), code: 'MALFORMED', layer: 'udp', check: (l) => (findLayer(l, 'ipv4')?.options?.length ?? 0) === 80 },
  { name: 'IP version 6 in an IPv4 EtherType', mutate: (b) => (b[14] = 0x65), code: 'UNSUPPORTED', layer: 'ipv4' },
  { name: 'UDP length 4 (< 8)', mutate: (b) => b.set([0, 4], 38), code: 'MALFORMED', layer: 'udp' },
  { name: 'UDP length past the IP payload', mutate: (b) => b.set([0x0f, 0xff], 38), code: 'TRUNCATED', layer: 'udp' },
  { name: 'UDP length shorter than the DHCP message', mutate: (b) => b.set([0, 8 + 236], 38), code: undefined, check: (l) => findLayer(l, 'dhcp')?.vend === '' },
  { name: 'wrong UDP checksum is a field', mutate: (b) => (b[41] = b[41]! ^ 1), code: undefined, check: (l) => findLayer(l, 'udp')?.checksumOk === false },
  { name: 'DHCP option length past the end', mutate: (b) => (b[42 + 240 + 1] = 250), code: undefined, check: (l) => findLayer(l, 'dhcp')?.malformed === true && findLayer(l, 'dhcp')!.options.length === 0 },
  { name: 'DHCP without the magic cookie is BOOTP with a raw vendor area', mutate: (b) => (b[42 + 236] = 0), code: undefined, check: (l) => findLayer(l, 'dhcp')!.vend!.length === (dhcpFrame.length - 42 - 236) * 2 },
  { name: 'DHCP hlen 255 (more than chaddr holds)', mutate: (b) => (b[42 + 2] = 255), code: undefined, check: (l) => findLayer(l, 'dhcp')!.chaddr.length === 16 * 3 - 1 },
  { name: 'DHCP message type 250 (open enum)', mutate: (b) => (b[42 + 242] = 250), code: undefined, check: (l) => findLayer(l, 'dhcp')!.options[0]!.data === 'fa' },
  { name: 'EtherType 0x86dd (not decoded) is a raw payload', mutate: (b) => b.set([0x86, 0xdd], 12), code: undefined, check: (l) => l[1]!.layer === 'raw' },
];

for (const r of rows) {
  test(`malformed: ${r.name}`, (t) => {
    const b = Uint8Array.from(dhcpFrame);
    r.mutate(b);
    const { layers, error } = decodeFrame(b);
    t.is(error?.code, r.code, error?.message);
    if (r.layer) t.is(error?.layer, r.layer);
    if (r.check) t.true(r.check(layers), JSON.stringify(layers).slice(0, 400));
    t.is(layers[0]!.layer, 'ethernet', 'Ethernet is always kept');
    t.is(hex(encodeFrame(layers, off)), hex(b), 'lossless even when malformed');
  });
}

test('option-length lies inside typed accessors are WireError, not RangeError', async (t) => {
  const { dhcpGet } = await import('../../../src/packet/index.js');
  const b = Uint8Array.from(dhcpFrame);
  const d = findLayer(decodeFrame(b).layers, 'dhcp')!;
  const bad = { ...d, options: [{ code: 3, data: '0a0000' }, { code: 121, data: '21' }, { code: 119, data: '03777777c0ff' }] };
  for (const name of ['routers', 'classlessRoutes', 'domainSearch'] as const) {
    const e = t.throws(() => dhcpGet(bad, name));
    t.true(e instanceof WireError, name);
  }
});

test('300 nested VLAN tags decode as 300 layers (no recursion limit, no hang) and re-encode', (t) => {
  const tags = 300;
  const b = new Uint8Array(14 + tags * 4 + 28);
  b.fill(0xff, 0, 6);
  b.set([2, 0, 0, 0, 0, 1], 6);
  b.set([0x81, 0x00], 12);
  for (let i = 0; i < tags; i++) {
    const o = 14 + i * 4;
    b[o] = (i % 8) << 5;
    b[o + 1] = (i + 1) & 0xff;
    b.set(i === tags - 1 ? [0x08, 0x06] : [0x81, 0x00], o + 2);
  }
  b.set([0, 1, 8, 0, 6, 4, 0, 1], 14 + tags * 4);
  const { layers, error } = decodeFrame(b);
  t.is(error, undefined);
  t.is(vlanTags(layers).length, tags);
  t.is(layers[layers.length - 1]!.layer, 'arp');
  t.is(hex(encodeFrame(layers)), hex(b));
  const cut = decodeFrame(b.subarray(0, 14 + 150 * 4 + 2));
  t.is(cut.error?.code, 'TRUNCATED');
  t.is(cut.error?.layer, 'vlan');
  t.is(vlanTags(cut.layers).length, 150);
});

test('encode refuses reprs that cannot be on the wire with WireError, never TypeError', (t) => {
  const eth = { layer: 'ethernet', dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', etherType: 0 } as const;
  const bad: Array<[string, Layer[]]> = [
    ['MAC not a MAC', [{ ...eth, src: 'zz:00:00:00:00:01' }]],
    ['IP with 5 parts', [eth, { layer: 'ipv4', src: '10.0.0.1.5', dst: '10.0.0.2', protocol: 17, ttl: 64, id: 0, df: false, mf: false, fragOffset: 0 }]],
    ['TTL 256', [eth, { layer: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, ttl: 256, id: 0, df: false, mf: false, fragOffset: 0 }]],
    ['odd hex', [eth, { layer: 'raw', data: 'abc' }]],
    ['non-hex', [eth, { layer: 'raw', data: 'zz' }]],
    ['non-hex low digit', [eth, { layer: 'raw', data: '0g' }]],
    ['non-hex high digit', [eth, { layer: 'raw', data: 'g0' }]],
    ['non-ASCII digits', [eth, { layer: 'raw', data: '\u0660\u0661' }]],
    ['unknown layer', [eth, { layer: 'ipv6' } as unknown as Layer]],
    ['DHCP option of 256 bytes', [eth, { layer: 'dhcp', op: 1, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '02:00:00:00:00:01', sname: '', file: '', options: [{ code: 12, data: '61'.repeat(256) }] }]],
    ['probe id too short', [eth, { layer: 'probe', probeId: '00', seq: 0, sentNs: '0', origin: 'x' }]],
    ['null layer', [eth, null as unknown as Layer]],
  ];
  for (const [what, layers] of bad) {
    const e = t.throws(() => encodeFrame(layers), undefined, what);
    t.true(e instanceof WireError, `${what}: ${String(e)}`);
  }
});
