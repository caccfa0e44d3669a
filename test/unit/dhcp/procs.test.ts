/**
 * Finding dnsmasq processes (probes/dhcp/procs.ts) on a fake /proc tree laid out as the
 * kernel shows it (comm, NUL-separated cmdline, ns/net symlink 'net:[INODE]', net/dev):
 * when the processes found last time are enough, and when /proc is walked again.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDnsmasq, readDnsmasq, walkDnsmasq } from '../../../probes/dhcp/procs.js';

const NS_A = 4026532001;
const NS_B = 4026532002;

function fakeProc(t: { teardown(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'steth-proc-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const add = (pid: number, comm: string, ns: number, argv: string[], ifaces: string[] = []): void => {
    const d = join(root, String(pid));
    mkdirSync(join(d, 'ns'), { recursive: true });
    mkdirSync(join(d, 'net'));
    writeFileSync(join(d, 'comm'), `${comm}\n`);
    writeFileSync(join(d, 'cmdline'), `${argv.join('\0')}\0`);
    symlinkSync(`net:[${ns}]`, join(d, 'ns', 'net'));
    const header = 'Inter-|   Receive                        |  Transmit\n face |bytes    packets errs drop\n';
    writeFileSync(join(d, 'net', 'dev'), header + ifaces.map((i) => `${i.padStart(6)}: 0 0 0 0\n`).join(''));
  };
  const kill = (pid: number): void => rmSync(join(root, String(pid)), { recursive: true, force: true });
  return { root, add, kill };
}

test('a dnsmasq is read with its argv, namespace inode and interfaces; other processes are not', (t) => {
  const p = fakeProc(t);
  p.add(100, 'dnsmasq', NS_A, ['dnsmasq', '--dhcp-hostsfile=/x/host', '--interface=tapa'], ['lo', 'tapa']);
  p.add(101, 'bash', NS_A, ['bash']);
  writeFileSync(join(p.root, 'self'), ''); // non-numeric entries are skipped
  t.deepEqual(readDnsmasq(100, p.root), { pid: 100, argv: ['dnsmasq', '--dhcp-hostsfile=/x/host', '--interface=tapa'], nsIno: NS_A, ifaces: ['lo', 'tapa'] });
  t.is(readDnsmasq(101, p.root), undefined);
  t.is(readDnsmasq(999, p.root), undefined);
  t.deepEqual(walkDnsmasq(p.root).map((d) => d.pid), [100]);
});

test('the dnsmasq found last time is re-read without a walk while it covers the namespaces asked about', (t) => {
  const p = fakeProc(t);
  p.add(100, 'dnsmasq', NS_A, ['dnsmasq'], ['tapa']);
  const scanned = findDnsmasq([NS_A], [], p.root);
  t.true(scanned.walked, 'nothing known yet: walk');
  t.deepEqual(scanned.procs.map((d) => d.pid), [100]);
  // a second dnsmasq appears in another namespace: not needed for NS_A, so not looked for
  p.add(200, 'dnsmasq', NS_B, ['dnsmasq'], ['tapb']);
  const again = findDnsmasq([NS_A], scanned.procs, p.root);
  t.false(again.walked);
  t.deepEqual(again.procs.map((d) => d.pid), [100]);
  // asked about NS_B too: walk, both found
  const both = findDnsmasq([NS_A, NS_B], again.procs, p.root);
  t.true(both.walked);
  t.deepEqual(both.procs.map((d) => d.pid).sort(), [100, 200]);
});

test('a restarted dnsmasq (new pid) or a stopped one sends the search back to a walk', (t) => {
  const p = fakeProc(t);
  p.add(100, 'dnsmasq', NS_A, ['dnsmasq', '--dhcp-hostsfile=/old']);
  const known = findDnsmasq([NS_A], [], p.root).procs;
  p.kill(100);
  p.add(150, 'dnsmasq', NS_A, ['dnsmasq', '--dhcp-hostsfile=/new']);
  const restarted = findDnsmasq([NS_A], known, p.root);
  t.true(restarted.walked);
  t.deepEqual(restarted.procs.map((d) => [d.pid, d.argv[1]]), [[150, '--dhcp-hostsfile=/new']]);
  p.kill(150);
  const stopped = findDnsmasq([NS_A], restarted.procs, p.root);
  t.true(stopped.walked);
  t.deepEqual(stopped.procs, []);
  // a pid reused by another program is not taken for the dnsmasq
  p.add(150, 'sleep', NS_A, ['sleep', '1000']);
  t.deepEqual(findDnsmasq([NS_A], restarted.procs, p.root).procs, []);
});
