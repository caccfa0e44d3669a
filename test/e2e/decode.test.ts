/**
 * The real `steth decode` binary (dist/bin/steth.js) on every real-tool vector: NDJSON with
 * --json, one line per frame, and the fields tshark prints with `-T fields` agree.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/host/exec.js';
import type { Layer } from '../../src/packet/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const BIN = join(ROOT, 'dist/bin/steth.js');
const VECTORS = join(ROOT, 'test/fixtures/vectors');

let tsharkOk = true;
try {
  await run('tshark', ['--version'], { timeoutMs: 20000 });
} catch {
  tsharkOk = false;
}

const FIELDS = ['frame.number', 'eth.src', 'eth.dst', 'vlan.id', 'ip.src', 'ip.dst', 'udp.dstport', 'dhcp.option.dhcp', 'icmp.type', 'arp.opcode'];

for (const f of readdirSync(VECTORS).filter((x) => x.endsWith('.pcap'))) {
  (tsharkOk ? test.serial : test.skip)(`steth decode ${f} --json matches tshark -T fields`, async (t) => {
    const path = join(VECTORS, f);
    const ours = await run(process.execPath, [BIN, 'decode', path, '--json'], { timeoutMs: 60000 });
    const recs = ours.stdout.trim().split('\n').map((l) => JSON.parse(l) as { no: number; layers: Layer[] });
    const human = await run(process.execPath, [BIN, 'decode', path], { timeoutMs: 60000 });
    const lines = human.stdout.trim().split('\n');
    t.is(lines.length, recs.length, 'piped: one TSV line per frame on stdout');
    lines.forEach((l, i) => t.true(l.startsWith(`${i + 1}\t`), l));
    const ts = await run('tshark', ['-r', path, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,', ...FIELDS.flatMap((x) => ['-e', x])], { timeoutMs: 60000 });
    const rows = ts.stdout.trim().split('\n').map((l) => l.split('|'));
    t.is(recs.length, rows.length);
    recs.forEach((r, i) => {
      const [no = '', esrc = '', edst = '', vid = '', isrc = '', idst = '', dport = '', dtype = '', itype = '', aop = ''] = rows[i]!;
      const eths = r.layers.filter((l): l is Extract<Layer, { layer: 'ethernet' }> => l.layer === 'ethernet');
      const ips = r.layers.filter((l): l is Extract<Layer, { layer: 'ipv4' }> => l.layer === 'ipv4');
      const icmps = r.layers.filter((l): l is Extract<Layer, { layer: 'icmp' }> => l.layer === 'icmp');
      const quotedIps = icmps.flatMap((c) => (c.quoted ?? []).filter((q): q is Extract<Layer, { layer: 'ipv4' }> => q.layer === 'ipv4'));
      t.is(String(r.no), no);
      t.is(eths.map((e) => e.src).join(','), esrc);
      t.is(eths.map((e) => e.dst).join(','), edst);
      t.is(r.layers.filter((l): l is Extract<Layer, { layer: 'vlan' }> => l.layer === 'vlan' && l.tpid === 0x8100).map((v) => v.vid).join(','), vid);
      t.is([...ips, ...quotedIps].map((p) => p.src).join(','), isrc);
      t.is([...ips, ...quotedIps].map((p) => p.dst).join(','), idst);
      const udps = r.layers.filter((l): l is Extract<Layer, { layer: 'udp' }> => l.layer === 'udp');
      const qudp = icmps.flatMap((c) => (c.quoted ?? []).filter((q): q is Extract<Layer, { layer: 'udp' }> => q.layer === 'udp'));
      t.is([...udps, ...qudp].map((u) => u.dstPort).join(','), dport);
      const d = r.layers.find((l): l is Extract<Layer, { layer: 'dhcp' }> => l.layer === 'dhcp');
      const o53 = d?.options.find((o) => o.code === 53);
      t.is(o53 ? String(parseInt(o53.data!, 16)) : '', dtype);
      const qicmp = icmps.flatMap((c) => (c.quoted ?? []).filter((q): q is Extract<Layer, { layer: 'icmp' }> => q.layer === 'icmp'));
      t.is([...icmps, ...qicmp].map((c) => c.type).join(','), itype);
      t.is(r.layers.filter((l): l is Extract<Layer, { layer: 'arp' }> => l.layer === 'arp').map((a) => a.op).join(','), aop);
    });
  });
}

test('steth decode of a missing file fails with a non-zero exit and says why', async (t) => {
  const r = await run(process.execPath, [BIN, 'decode', '/nonexistent/steth.pcap'], { timeoutMs: 30000, allowFail: true });
  t.not(r.code, 0);
  t.regex(r.stderr, /cannot read \/nonexistent\/steth\.pcap/);
});
