/**
 * The codec and `steth decode` need no libpcap addon (reading evidence on a laptop): in a
 * process where no native addon can load at all, decode gives the same output as with the
 * addon, and only live capture says the addon is missing (PcapError ENOADDON with the
 * build hint). No root needed.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const STETH = join(here, '..', '..', '..', 'bin', 'steth.js');
const VECTORS = join(here, '..', '..', '..', '..', 'test', 'fixtures', 'vectors');
const CAPTURE = pathToFileURL(join(here, '..', '..', '..', 'src', 'capture', 'index.js')).href;

/** Preloaded before anything else: every attempt to load a native addon fails. */
const NO_ADDONS = `data:text/javascript,${encodeURIComponent(
  "const o = process.dlopen; process.dlopen = (m, f, ...r) => { if (String(f).endsWith('.node')) throw new Error('native addons are disabled in this test'); return o(m, f, ...r); };",
)}`;

function node(args: string[], preload: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...(preload ? ['--import', NO_ADDONS] : []), ...args], { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

for (const file of ['dhcp-dhclient.pcap', 'qinq-ovs.pcap', 'vxlan.pcap']) {
  test(`steth decode ${file} --json without any native addon gives the same frames as with it`, async (t) => {
    const path = join(VECTORS, file);
    const without = await node([STETH, 'decode', path, '--json'], true);
    t.is(without.code, 0, without.stderr);
    const withAddon = await node([STETH, 'decode', path, '--json'], false);
    t.is(withAddon.code, 0, withAddon.stderr);
    t.true(without.stdout.trim().split('\n').length > 1);
    t.is(without.stdout, withAddon.stdout);
  });
}

test('without the addon, live capture fails with PcapError ENOADDON and the build hint (the preload really blocks it)', async (t) => {
  const script = `import { openCapture } from ${JSON.stringify(CAPTURE)};
    try { await openCapture({ iface: 'lo' }); console.log('opened'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, hint: e.hint })); }`;
  const r = await node(['--input-type=module', '-e', script], true);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { name: string; code: string; hint: string };
  t.is(out.name, 'PcapError');
  t.is(out.code, 'ENOADDON');
  t.regex(out.hint, /npm run build:native/);
});
