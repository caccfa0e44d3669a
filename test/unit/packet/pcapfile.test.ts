/** src/capture/pcapfile.ts and `steth decode`'s pure part, on files made by real tools (test/fixtures/files/README.txt). */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePcap, PcapWriter, readPcap } from '../../../src/capture/pcapfile.js';
import { decodeCapture, decodeCaptureLines, decodeResult } from '../../../src/cli/commands/decode-run.js';
import { StethError } from '../../../src/errors.js';
import { WireError } from '../../../src/packet/index.js';
import { run } from '../../../src/host/exec.js';
import { VECTORS_DIR } from './vectors.js';

const FILES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/files');
const file = (n: string): Buffer => readFileSync(join(FILES, n));

test('pcapng (editcap) and pcap (tcpdump) of the same capture give the same frames and timestamps', (t) => {
  const a = readPcap(readFileSync(join(VECTORS_DIR, 'icmp.pcap')));
  const b = readPcap(file('icmp.pcapng'));
  t.is(a.format, 'pcap');
  t.is(b.format, 'pcapng');
  t.is(a.linkType, 1);
  t.is(b.linkType, 1);
  t.is(a.frames.length, b.frames.length);
  a.frames.forEach((f, i) => {
    t.is(Buffer.from(b.frames[i]!.bytes).toString('hex'), Buffer.from(f.bytes).toString('hex'));
    t.is(b.frames[i]!.tsNs, f.tsNs);
    t.is(b.frames[i]!.len, f.len);
  });
  t.is(a.error, undefined);
});

test('nanosecond pcap keeps nanoseconds; microsecond pcap scales to ns', (t) => {
  const us = readPcap(readFileSync(join(VECTORS_DIR, 'arping.pcap')));
  const ns = readPcap(file('arping-ns.pcap'));
  t.is(us.resolution, 'us');
  t.is(ns.resolution, 'ns');
  t.is(ns.frames[0]!.tsNs, us.frames[0]!.tsNs);
  t.is(us.frames[0]!.tsNs % 1000n, 0n);
});

test('writer → reader round trip, by path and by stream; tcpdump reads what we write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steth-pcap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = readPcap(readFileSync(join(VECTORS_DIR, 'dhcp-udhcpc.pcap')));
  const p1 = join(dir, 'a.pcap');
  const w = new PcapWriter(p1, { snaplen: 1600 });
  for (const f of src.frames) w.write(f.tsNs + 123n, f.bytes, f.len);
  await w.close();
  await w.close(); // idempotent
  t.throws(() => w.write(1n, new Uint8Array(1)), { instanceOf: WireError });
  const back = readPcap(readFileSync(p1));
  t.is(back.resolution, 'ns');
  t.deepEqual(back.frames.map((f) => f.tsNs), src.frames.map((f) => f.tsNs + 123n));
  t.deepEqual(back.frames.map((f) => Buffer.from(f.bytes).toString('hex')), src.frames.map((f) => Buffer.from(f.bytes).toString('hex')));
  const p2 = join(dir, 'b.pcap');
  const w2 = new PcapWriter(createWriteStream(p2));
  for (const f of src.frames) w2.write(f.tsNs, f.bytes);
  await w2.close();
  t.is(readFileSync(p2).subarray(24).toString('hex'), encodePcap(src.frames).subarray(24).toString('hex'));
  const { stdout } = await run('tcpdump', ['-r', p1, '-n', '--nano'], { timeoutMs: 30000 });
  t.is(stdout.trim().split('\n').length, src.frames.length);
  t.regex(stdout, /BOOTP\/DHCP/);
});

test('snaplen caps caplen and keeps the original length', (t) => {
  const f = readPcap(encodePcap([{ tsNs: 5n, bytes: new Uint8Array(100).fill(7) }], { snaplen: 64 })).frames[0]!;
  t.is(f.caplen, 64);
  t.is(f.len, 100);
});

test('a file cut inside a record keeps the frames before it and reports TRUNCATED', (t) => {
  const whole = readFileSync(join(VECTORS_DIR, 'icmp.pcap'));
  const cut = readPcap(whole.subarray(0, whole.length - 10));
  const full = readPcap(whole);
  t.is(cut.frames.length, full.frames.length - 1);
  t.is(cut.error?.code, 'TRUNCATED');
  const ng = file('icmp.pcapng');
  const cutNg = readPcap(ng.subarray(0, ng.length - 10));
  t.is(cutNg.frames.length, full.frames.length - 1);
  t.is(cutNg.error?.code, 'TRUNCATED');
});

test('not a capture file → WireError from readPcap, StethError(EINVAL) from steth decode', (t) => {
  t.throws(() => readPcap(Buffer.from('hello world, not a pcap')), { instanceOf: WireError });
  t.throws(() => readPcap(new Uint8Array(2)), { instanceOf: WireError });
  const e = t.throws(() => decodeCaptureLines(Buffer.from('GIF89a....')));
  t.true(e instanceof StethError);
  t.is((e as StethError).code, 'EINVAL');
});

test('steth decode: one human line per frame, numbered, with the summary', (t) => {
  const lines = decodeCaptureLines(readFileSync(join(VECTORS_DIR, 'qinq-ovs.pcap')));
  t.is(lines.length, 7);
  t.regex(lines[1]!, /^2 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z 66 02:00:0a:52:00:01 > ff:ff:ff:ff:ff:ff, 802\.1ad vlan 200, 802\.1Q vlan 100, ARP request who-has 10\.82\.0\.2 tell 10\.82\.0\.1/);
});

test('steth decode --json: one JSON object per frame with the layers', (t) => {
  const lines = decodeCaptureLines(readFileSync(join(VECTORS_DIR, 'dhcp-dhclient.pcap')), { json: true });
  t.is(lines.length, 5);
  const recs = lines.map((l) => JSON.parse(l) as { no: number; tsNs: string; layers: Array<{ layer: string }>; summary: string });
  t.deepEqual(recs.map((r) => r.no), [1, 2, 3, 4, 5]);
  t.deepEqual(recs[0]!.layers.map((l) => l.layer), ['ethernet', 'ipv4', 'udp', 'dhcp']);
  t.regex(recs[4]!.summary, /DHCP RELEASE/);
  t.regex(recs[0]!.tsNs, /^\d{19}$/);
});

test('steth decode reads Linux cooked v2 (tcpdump -i any) and pcapng', (t) => {
  const sll = decodeCapture(file('any-sll.pcap'));
  t.is(sll.file.linkType, 276);
  t.true(sll.records.length >= 2);
  t.deepEqual(sll.records[0]!.layers.map((l) => l.layer), ['ipv4', 'icmp']);
  t.regex(sll.records[0]!.summary, /IPv4 127\.0\.0\.1 > 127\.0\.0\.1 .*ICMP echo-request/);
  const ng = decodeResult('icmp.pcapng', file('icmp.pcapng'));
  t.is(ng.tables[0]!.rows.length, 13);
  t.regex(ng.verdict, /13 frames in icmp\.pcapng \(pcapng, link type 1\)/);
  t.regex(String(ng.tables[0]!.rows[9]!.Summary), /fragmentation-needed mtu 1280/);
});
