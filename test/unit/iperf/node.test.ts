/**
 * The agent half for real: iperf3 / iperf servers and clients inside a network
 * namespace this test creates (loopback with a 10.x address), a real Ledger, a
 * fake AgentContext. One harness run (node-harness.ts) does every scenario; each
 * test asserts on its own part. Needs root (netns) and iperf3 + iperf.
 */
import test from 'ava';
import { execFileSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientArgv } from '../../../probes/iperf/node.js';
import { client as clientSpec, type ClientParams } from '../../../probes/iperf/contract.js';

const isRoot = process.getuid?.() === 0;
const has = (bin: string): boolean => {
  try {
    execFileSync('which', [bin], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const canRun = isRoot && has('iperf3') && has('iperf');
const reason = !isRoot ? 'needs root (network namespaces)' : 'needs iperf3 and iperf installed';
const rtest = canRun ? test.serial : test.skip;

type Outcome = { ok: boolean; value?: any; error?: { code: string; message: string; hint?: string } };
let report: Record<string, Outcome> = {};
const ns = `ipf8u${randomBytes(3).toString('hex')}`;
const addr = '10.88.9.1';

test.before(async () => {
  if (!canRun) return;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${addr}/32`, 'dev', 'lo']);
    const harness = join(dirname(fileURLToPath(import.meta.url)), 'node-harness.js');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('ip', ['netns', 'exec', ns, process.execPath, harness, addr], { timeout: 120_000, maxBuffer: 16 << 20 }, (e, out, err) =>
        e ? reject(new Error(`harness failed: ${e.message}\n${err}`)) : resolve(out),
      ),
    );
    report = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, Outcome>;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

if (!canRun) test.skip(`iperf agent functions in a namespace (${reason})`, () => undefined);

rtest('server bound to the address, lease held while it runs; client TCP figures > 0; server exits by itself after its one test and the lease goes', (t) => {
  const r = report.tcp!;
  t.true(r.ok, JSON.stringify(r.error));
  const v = r.value;
  t.is(v.start.bind, addr);
  t.true(v.start.port >= 15201 && v.start.port <= 15999);
  t.is(v.start.tool, 'iperf3');
  t.true(v.leaseHeld);
  t.true(v.client.flows[0].sentBps > 0);
  t.true(v.client.flows[0].receivedBps > 0);
  t.is(v.client.connection.remote, addr);
  t.is(v.client.connection.local, addr);
  t.true(v.stop.stopped);
  t.true(v.stop.exitedByItself);
  // the server's own report agrees with the client on what arrived
  t.is(v.stop.result.flows[0].receivedBytes, v.client.flows[0].receivedBytes);
  t.false(v.pidAlive);
  t.false(v.leaseAfter);
});

rtest('every client parameter reaches iperf3: -P 2, -R, -w, -M, -b, -B', (t) => {
  const v = report.allParams!.value;
  t.true(report.allParams!.ok);
  t.is(v.client.streams, 2);
  t.true(v.client.reverse);
  t.is(v.client.flows[0].from, 'server');
  for (const [flag, val] of [['-P', '2'], ['-w', '262144'], ['-M', '1400'], ['-b', '200000000'], ['-B', addr]] as const) {
    const i = v.client.argv.indexOf(flag);
    t.true(i > 0, flag);
    t.is(v.client.argv[i + 1], val);
  }
  t.true(v.client.argv.includes('-R'));
  // -b 200M per stream caps the rate (×2 streams); loopback would do several Gbit/s
  t.true(v.client.flows[0].receivedBps < 600e6);
});

rtest('UDP bidir at a target rate: jitter and loss figures on both flows', (t) => {
  const v = report.udp!.value;
  t.true(report.udp!.ok);
  t.is(v.client.protocol, 'udp');
  t.is(v.client.flows.length, 2);
  for (const f of v.client.flows) {
    t.is(typeof f.jitterMs, 'number');
    t.is(typeof f.lostPercent, 'number');
    t.true(f.packets > 0);
    t.is(f.retransmits, null);
  }
});

rtest('preferred port in use → another port is chosen and works', (t) => {
  const v = report.preferredPortBusy!.value;
  t.true(report.preferredPortBusy!.ok);
  t.not(v.port, 15555);
  t.deepEqual(v.busyPorts, [15555]);
  t.true(v.received > 0);
});

rtest('strict port (compat) in use → EBUSY from iperf3\'s own error', (t) => {
  t.false(report.strictPortBusy!.ok);
  t.is(report.strictPortBusy!.error!.code, 'EBUSY');
  t.regex(report.strictPortBusy!.error!.message, /Address already in use/);
});

rtest('bind address not on the node → ENOENT naming the address', (t) => {
  t.false(report.notLocal!.ok);
  t.is(report.notLocal!.error!.code, 'ENOENT');
  t.regex(report.notLocal!.error!.message, /10\.254\.254\.254/);
});

rtest('lease TTL passes with no client → the server process is killed and the lease gone', (t) => {
  const v = report.leaseExpiry!.value;
  t.true(v.before);
  t.false(v.after);
  t.false(v.leaseAfter);
  t.is(v.active, 0);
});

rtest('serverStop with no test run kills the server; a second stop says it is gone', (t) => {
  const v = report.serverStopKills!.value;
  t.true(v.stop.stopped);
  t.false(v.stop.exitedByItself);
  t.false(v.again.stopped);
  t.false(v.pidAlive);
});

rtest('client to a port with no server → ETOOL with iperf3\'s reason', (t) => {
  t.is(report.connectRefused!.error!.code, 'ETOOL');
  t.regex(report.connectRefused!.error!.message, /Connection refused/);
});

rtest('compat: setup_iperf_server honours UDP + port, start_iperf_client honours protocol/timeout/bandwidth (Mbit/s), teardown kills only our server', (t) => {
  const v = report.compat!.value;
  t.is(v.setup.code, 0);
  t.is(v.setup.data.port, 15601);
  t.is(v.client.code, 0);
  t.is(v.client.data.result.protocol, 'udp');
  t.is(v.client.data.result.durationS, 1);
  t.true(v.client.data.result.argv.includes('-u'));
  t.is(v.client.data.result.argv[v.client.data.result.argv.indexOf('-b') + 1], '10000000');
  t.regex(v.client.data.Bandwidth, /Mbit\/s$/);
  t.regex(v.client.data.Lost, /\d+\/\d+/);
  t.true(v.pidAlive);
  t.is(v.teardown.code, 0);
  t.is(v.teardownAgain.code, 1);
  t.is(v.foreign.code, 1);
  t.regex(v.foreign.message, /no iperf server with pid/);
  t.false(v.pidAfter);
});

rtest('iperf3 absent, iperf present → iperf2 fallback with CSV, TCP figures > 0, server stopped', (t) => {
  const v = report.iperf2Tcp!.value;
  t.true(report.iperf2Tcp!.ok, JSON.stringify(report.iperf2Tcp!.error));
  t.is(v.start.tool, 'iperf2');
  t.is(v.client.tool, 'iperf2');
  t.true(v.client.argv.includes('-y'));
  t.true(v.client.flows[0].sentBps > 0);
  t.regex(v.stop.raw, /^\d{14},/);
  t.false(v.pidAlive);
});

rtest('iperf2 UDP: the server CSV carries loss and jitter', (t) => {
  const v = report.iperf2Udp!.value;
  t.true(report.iperf2Udp!.ok);
  t.regex(v.stop.raw, /^(\d{14}),([^,]*,){12}[^,]*$/m);
});

rtest('neither iperf3 nor iperf → ETOOL naming the iperf3 package (server and client)', (t) => {
  for (const k of ['noTool', 'noToolClient']) {
    t.is(report[k]!.error!.code, 'ETOOL');
    t.regex(report[k]!.error!.message, /iperf3 is not installed/);
    t.regex(report[k]!.error!.hint!, /iperf3 package/);
  }
});

rtest('nothing left behind: no running server, no lease', (t) => {
  t.deepEqual(report.leftover as unknown, []);
  t.is(report.leasesLeft as unknown, 0);
});

test('clientArgv: iperf2 uses -d for bidir and -y C; iperf3 --bidir and -J', (t) => {
  const p = clientSpec.params.parse({ server: '10.0.0.1', port: 15201, protocol: 'udp', durationS: 2, bidir: true, bandwidth: 1000 }) as ClientParams;
  const a3 = clientArgv('iperf3', p);
  const a2 = clientArgv('iperf2', p);
  t.true(a3.includes('--bidir') && a3.includes('-J') && a3.includes('-u'));
  t.true(a2.includes('-d') && a2.includes('-y') && !a2.includes('-J'));
  t.is(a3[a3.indexOf('-t') + 1], '2');
});

test('client params: reverse+bidir and MSS with UDP are rejected before anything runs', (t) => {
  t.false(clientSpec.params.safeParse({ server: '10.0.0.1', port: 1, reverse: true, bidir: true }).success);
  t.false(clientSpec.params.safeParse({ server: '10.0.0.1', port: 1, protocol: 'udp', mss: 1400 }).success);
  t.false(clientSpec.params.safeParse({ server: '10.0.0.999', port: 1 }).success);
});
