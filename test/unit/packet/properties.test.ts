/**
 * Property tests (dns-packet's invariants, smoltcp's fuzz idea) with fast-check:
 *  - every codec writes exactly headerLength(repr) bytes, all of them (a buffer pre-filled
 *    with 0x00 and one with 0xff give the same bytes), and nothing past them;
 *  - decode(encode(repr)) deep-equals repr for arbitrary valid reprs;
 *  - encoding at an offset gives the same bytes as at 0;
 *  - arbitrary bytes and mutated real frames decode without throwing, any error is a
 *    WireError, and re-encoding the decoded layers with every fix off reproduces the input.
 */
import { fc, testProp } from '@fast-check/ava';
import { CODECS, decodeFrame, encodeFrame, WireError, type Layer, type LayerCodec, type LayerName } from '../../../src/packet/index.js';
import { DEFAULT_DECODE_CTX, DEFAULT_ENCODE_OPTIONS } from '../../../src/packet/codec.js';
import { vectorFrames } from './vectors.js';
import { readdirSync } from 'node:fs';
import { VECTORS_DIR } from './vectors.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (n: number, max = n): fc.Arbitrary<string> => fc.uint8Array({ minLength: n, maxLength: max }).map(hexOf);
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const ip = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Array.from(b).join('.'));
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const arbs: { [N in LayerName]?: fc.Arbitrary<Layer> } = {
  ethernet: fc.record({ layer: fc.constant('ethernet' as const), dst: mac, src: mac, etherType: u16 }),
  vlan: fc.record({ layer: fc.constant('vlan' as const), tpid: fc.constant(0x8100), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), vid: fc.integer({ min: 0, max: 4094 }), etherType: u16 }),
  arp: fc.record({ layer: fc.constant('arp' as const), op: u16, senderMac: mac, senderIp: ip, targetMac: mac, targetIp: ip }),
  ipv4: fc
    .record({
      layer: fc.constant('ipv4' as const), src: ip, dst: ip, protocol: u8, ttl: u8, id: u16, df: fc.boolean(), mf: fc.boolean(),
      fragOffset: fc.integer({ min: 0, max: 8191 }), dscp: fc.integer({ min: 0, max: 63 }), ecn: fc.integer({ min: 0, max: 3 }), reservedFlag: fc.boolean(),
      options: fc.integer({ min: 0, max: 10 }).chain((w) => bytes(4 * w)),
    })
    .map((r) => ({ ...r, length: 20 + r.options.length / 2, checksum: 0, checksumOk: true })),
  udp: fc.record({ layer: fc.constant('udp' as const), srcPort: u16, dstPort: u16, length: fc.constant(8), checksum: u16 }),
  icmp: fc.oneof(
    fc.record({ layer: fc.constant('icmp' as const), type: fc.constantFrom(0, 8, 13, 14), code: u8, id: u16, seq: u16, data: bytes(0, 64) }),
    fc.record({ layer: fc.constant('icmp' as const), type: fc.constant(3), code: fc.constant(4), nextHopMtu: u16, data: fc.constant('') }),
    fc.record({ layer: fc.constant('icmp' as const), type: fc.constantFrom(11, 4, 9, 200), code: u8, restOfHeader: u32, data: fc.constant('') }),
  ).map((r) => ({ ...r, checksum: 0, checksumOk: true })),
  vxlan: fc.record({ layer: fc.constant('vxlan' as const), flags: u8, vni: fc.integer({ min: 0, max: 0xffffff }), reserved1: fc.integer({ min: 0, max: 0xffffff }), reserved2: u8 }),
  dhcp: fc
    .record({
      op: u8, htype: u8, hlen: fc.integer({ min: 0, max: 16 }), hops: u8, xid: u32, secs: u16, flags: u16, ciaddr: ip, yiaddr: ip, siaddr: ip, giaddr: ip,
      chaddrBytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      sname: fc.string({ maxLength: 63 }).map((s) => s.replace(/\0/g, 'x')),
      file: fc.string({ maxLength: 127 }).map((s) => s.replace(/\0/g, 'x')),
      options: fc.array(fc.oneof(fc.constant({ code: 0 }), fc.record({ code: fc.integer({ min: 1, max: 254 }), data: bytes(0, 40) })), { maxLength: 12 }),
      end: fc.boolean(),
      tail: bytes(0, 12),
    })
    .map((d) => {
      const n = d.hlen;
      const pad = d.chaddrBytes.subarray(n);
      const r: Record<string, unknown> = {
        layer: 'dhcp', op: d.op, htype: d.htype, hlen: d.hlen, hops: d.hops, xid: d.xid, secs: d.secs, flags: d.flags, ciaddr: d.ciaddr, yiaddr: d.yiaddr, siaddr: d.siaddr, giaddr: d.giaddr,
        chaddr: Array.from(d.chaddrBytes.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(':'),
        sname: d.sname, file: d.file,
        options: d.end ? [...d.options, { code: 255 }] : d.options,
      };
      if (pad.some((b) => b !== 0)) r.chaddrPadding = hexOf(pad);
      if (d.end && d.tail) r.tail = d.tail;
      return r as unknown as Layer;
    }),
  probe: fc.record({
    layer: fc.constant('probe' as const), probeId: bytes(8), seq: u32, sentNs: fc.bigUintN(64).map(String), origin: fc.fullUnicodeString({ maxLength: 20 }),
    fill: fc.integer({ min: 0, max: 100 }), version: fc.constant(1),
  }),
  raw: fc.record({ layer: fc.constant('raw' as const), data: bytes(0, 64) }),
};

/** what decode adds that the arbitrary could not know (checksums) */
function normalise(l: Layer): Layer {
  if ('checksum' in l) {
    const { checksum: _c, ...rest } = l as Layer & { checksum?: number };
    return rest as Layer;
  }
  return l;
}

for (const [name, arb] of Object.entries(arbs) as Array<[LayerName, fc.Arbitrary<Layer>]>) {
  const codec = CODECS[name] as LayerCodec<Layer>;
  const opts = { ...DEFAULT_ENCODE_OPTIONS, fixNextProtocol: false };
  const enc = (r: Layer, fill: number, at: number): Uint8Array => {
    const len = codec.headerLength(r);
    const buf = new Uint8Array(at + len + 4).fill(fill);
    const n = codec.encodeInto(r, buf, at, { payloadLength: 0, next: undefined, opts, ip: undefined });
    if (n !== len) throw new Error(`${name}: wrote ${n}, headerLength ${len}`);
    for (let i = at + len; i < buf.length; i++) if (buf[i] !== fill) throw new Error(`${name}: wrote past its length`);
    return buf.subarray(at, at + len);
  };

  testProp(`${name}: encodingLength equals the bytes written, every one of them`, [arb], (t, r) => {
    t.is(hexOf(enc(r, 0x00, 0)), hexOf(enc(r, 0xff, 0)));
  });

  testProp(`${name}: decode(encode(repr)) deep-equals repr`, [arb], (t, r) => {
    const b = enc(r, 0xa5, 0);
    const ctx = { ...DEFAULT_DECODE_CTX };
    const d = codec.decode(b, 0, b.length, ctx);
    t.deepEqual(normalise(d.value), normalise(r));
  });

  testProp(`${name}: encoding at an offset gives the same bytes`, [arb, fc.integer({ min: 1, max: 40 })], (t, r, at) => {
    t.is(hexOf(enc(r, 0xa5, at)), hexOf(enc(r, 0xa5, 0)));
  });
}

const off = { fixLengths: false, fixChecksums: false, fixNextProtocol: false, pad: false };

function decodesLosslessly(t: { true(v: boolean, m?: string): void; false?(v: boolean, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, input: Uint8Array): void {
  let out: ReturnType<typeof decodeFrame> | undefined;
  try {
    out = decodeFrame(input);
  } catch (e) {
    t.true(false, `decodeFrame threw ${(e as Error).name}: ${(e as Error).message}`);
    return;
  }
  if (out.error !== undefined) {
    t.true(out.error instanceof WireError, 'only WireError');
    // decodeFrame turns a codec's TypeError/RangeError into MALFORMED "decoder failed": that is a bug here
    t.true(!out.error.message.includes('decoder failed'), `a codec threw: ${out.error.message}`);
  }
  t.is(hexOf(encodeFrame(out.layers, off)), hexOf(input), 'layers re-encode to the input');
}

testProp('arbitrary bytes: never throws, only WireError, lossless', [fc.uint8Array({ maxLength: 400 })], (t, b) => decodesLosslessly(t, b), { numRuns: 500 });

/** frames starting with plausible headers so the fuzzer gets deep */
const ETHERTYPES = [0x0800, 0x0806, 0x8100, 0x88a8, 0x88b5];
testProp(
  'arbitrary bytes behind a plausible EtherType / IP / UDP header: never throws, lossless',
  [fc.constantFrom(...ETHERTYPES), fc.constantFrom(1, 17), fc.constantFrom(67, 68, 4789, 5899), fc.uint8Array({ maxLength: 360 })],
  (t, et, proto, port, tail) => {
    const f = new Uint8Array(14 + 28 + tail.length);
    f[12] = et >> 8;
    f[13] = et & 255;
    f.set([0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto], 14);
    f[16] = (f.length - 14) >> 8;
    f[17] = (f.length - 14) & 255;
    f[36] = port >> 8;
    f[37] = port & 255;
    f[38] = (f.length - 34) >> 8;
    f[39] = (f.length - 34) & 255;
    f.set(tail, 42);
    decodesLosslessly(t, f);
  },
  { numRuns: 500 },
);

const realFrames = readdirSync(VECTORS_DIR)
  .filter((f) => f.endsWith('.pcap'))
  .flatMap((f) => vectorFrames(f));

testProp(
  'mutated and truncated real frames: never throws, only WireError, lossless',
  [fc.integer({ min: 0, max: realFrames.length - 1 }), fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }), fc.option(fc.nat())],
  (t, i, muts, cut) => {
    const f = Uint8Array.from(realFrames[i]!);
    for (const [pos, v] of muts) f[pos % f.length] = v;
    decodesLosslessly(t, cut === null ? f : f.subarray(0, cut % (f.length + 1)));
  },
  { numRuns: 1000 },
);

testProp('encodeFrame never mutates the caller’s layers', [fc.integer({ min: 0, max: realFrames.length - 1 })], (t, i) => {
  const layers = decodeFrame(realFrames[i]!).layers;
  const before = JSON.stringify(layers);
  const frozen = layers.map((l) => Object.freeze({ ...l }));
  for (const o of [{}, off, { fixLengths: true }, { fixChecksums: true }, { fixNextProtocol: true }, { pad: true }]) encodeFrame(frozen, o);
  t.is(JSON.stringify(frozen), before);
});
