/**
 * Ledger logic without root: leases persisted, expiry with a fake clock,
 * in-process undo, crash recovery killing a process we started, and the PID
 * reuse guard (a different start time means: not ours, leave it alone).
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, procStartTime, validateUndo } from '../../../agent/ledger.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'steth-ledger-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function sleeper(t: { teardown(fn: () => void): void }): ChildProcess {
  const c = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  return c;
}

const exited = (c: ChildProcess): Promise<string | null> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.signalCode) : new Promise((r) => c.once('exit', (_code, sig) => r(sig)));

const stateLeases = (dir: string): unknown[] => (JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as { leases: unknown[] }).leases;

test('acquire persists a host change before returning; release undoes it and forgets it', async (t) => {
  const dir = tmp(t);
  const l = new Ledger({ stateDir: dir });
  await l.recover();
  const child = sleeper(t);
  const id = l.acquire('iperf-server', { type: 'kill', pid: child.pid!, startTime: (await procStartTime(child.pid!))! }, 60_000, undefined, 'iperf3 -s');
  t.true(l.has(id));
  t.deepEqual(stateLeases(dir).map((x) => (x as { id: string }).id), [id]);
  await l.release(id);
  t.is(await exited(child), 'SIGTERM');
  t.false(l.has(id));
  t.deepEqual(stateLeases(dir), []);
  await l.release(id); // idempotent: unknown lease is not an error
});

test('an in-process lease (a capture) runs its close on release but never touches the state file', async (t) => {
  const dir = tmp(t);
  const l = new Ledger({ stateDir: dir });
  await l.recover();
  const before = readFileSync(join(dir, 'ledger.json'), 'utf8');
  let closed = 0;
  const id = l.acquire('capture', { type: 'none' }, 60_000, () => {
    closed++;
  }, 'cap on eth1');
  t.true(l.has(id));
  l.renew(id, 120_000);
  t.is(readFileSync(join(dir, 'ledger.json'), 'utf8'), before);
  await l.release(id);
  t.is(closed, 1);
  t.false(l.has(id));
  t.is(readFileSync(join(dir, 'ledger.json'), 'utf8'), before);
});

test('expiry: sweep undoes only leases past their TTL; renew pushes expiry out', async (t) => {
  const dir = tmp(t);
  let now = 1_000_000;
  const l = new Ledger({ stateDir: dir, now: () => now });
  const undone: string[] = [];
  const a = l.acquire('a', { type: 'none' }, 5000, () => void undone.push('a'));
  const b = l.acquire('b', { type: 'none' }, 5000, () => void undone.push('b'));
  const c = l.acquire('c', { type: 'none' }, 60_000, () => void undone.push('c'));
  now += 4000;
  l.renew(b, 10_000);
  now += 2000;
  const r = await l.sweep();
  t.deepEqual(r.map((x) => x.id), [a]);
  t.deepEqual(undone, ['a']);
  t.true(l.has(b) && l.has(c));
  now += 20_000;
  await l.sweep();
  t.deepEqual(undone.sort(), ['a', 'b']);
  t.true(l.has(c));
  t.false(existsSync(join(dir, 'ledger.json')), 'in-process leases are not written');
});

test('recover: a kill lease left by a crashed run kills that process (start time matches)', async (t) => {
  const dir = tmp(t);
  const child = sleeper(t);
  const startTime = await procStartTime(child.pid!);
  t.truthy(startTime);
  writeFileSync(
    join(dir, 'ledger.json'),
    JSON.stringify({ version: 1, leases: [{ id: 'iperf-1', kind: 'iperf', undo: { type: 'kill', pid: child.pid, startTime }, createdAt: 1, expiresAt: 2, agentPid: 999999 }] }),
  );
  const l = new Ledger({ stateDir: dir });
  const r = await l.recover();
  t.is(r.length, 1);
  t.true(r[0]!.ok);
  t.is(await exited(child), 'SIGTERM');
  t.deepEqual(stateLeases(dir), []);
});

test('recover: a kill lease whose PID now has another start time is left alone (PID reuse guard)', async (t) => {
  const dir = tmp(t);
  const child = sleeper(t);
  writeFileSync(
    join(dir, 'ledger.json'),
    JSON.stringify({ version: 1, leases: [{ id: 'iperf-2', kind: 'iperf', undo: { type: 'kill', pid: child.pid, startTime: '1' }, createdAt: 1, expiresAt: 2, agentPid: 999999 }] }),
  );
  const l = new Ledger({ stateDir: dir });
  await l.recover();
  await new Promise((r) => setTimeout(r, 200));
  t.is(child.exitCode, null);
  t.is(child.signalCode, null);
  t.deepEqual(stateLeases(dir), []);
});

test('recover: an unreadable state file starts empty and is rewritten', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'ledger.json'), '{not json');
  const logs: string[] = [];
  const l = new Ledger({ stateDir: dir, log: (_lv, msg) => void logs.push(msg) });
  t.deepEqual(await l.recover(), []);
  t.deepEqual(stateLeases(dir), []);
  t.true(logs.some((m) => /unreadable/.test(m)));
});

test('undo actions naming unsafe things are refused at acquire time', (t) => {
  t.throws(() => validateUndo({ type: 'kill', pid: 1 }));
  t.throws(() => validateUndo({ type: 'kill', pid: process.pid }));
  t.throws(() => validateUndo({ type: 'link-del', iface: 'eth0;reboot' }));
  t.throws(() => validateUndo({ type: 'addr-del', iface: 'eth1', cidr: '10.0.0.1' }));
  t.throws(() => validateUndo({ type: 'bogus' } as never));
  t.notThrows(() => validateUndo({ type: 'addr-del', iface: 'eth1', cidr: '10.0.0.1/24', netns: 'x' }));
});
