/**
 * A real steth-agent in a namespace of the test's own:
 *  - an original-style client (POST /RPC2, method + keyword params, Bearer token)
 *    gets the original {code, message, data} envelope;
 *  - ledger: kill -9 the agent while it holds link-setup leases on a veth,
 *    restart it, the address and the link state are undone;
 *  - ledger: kill -9 the agent while it holds a one-off iperf3 server (which
 *    nothing else would kill: no PDEATHSIG), restart it, the orphan is killed;
 *  - ledger: the same with a VLAN subinterface the agent created (skipped with
 *    the reason where the kernel has no 8021q);
 *  - a CLI killed mid-command leaves a lease that expires and is undone.
 */
import anyTest from 'ava';
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, needsRoot, needsTools, randomSuffix, skipWith } from '../helpers/env.js';
import { startNsAgent, linkState, until, originalCall, CLI_BIN } from './agent-fixture.js';
import { linkSetup, vlanAddToInterface } from '../../probes/link/contract.js';
import { serverStart } from '../../probes/iperf/contract.js';

const test = needsTools(needsRoot(anyTest), ['ovsdb-server', 'ovs-vsctl']);

const leasesOnDisk = (stateDir: string): Array<{ kind: string; undo: Record<string, unknown> }> =>
  (JSON.parse(readFileSync(join(stateDir, 'ledger.json'), 'utf8')) as { leases: Array<{ kind: string; undo: Record<string, unknown> }> }).leases;

/** A process as /proc shows it: argv, parent, state letter, start time; undefined when gone. */
function proc(pid: number): { argv: string[]; ppid: number; state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { argv, ppid: Number(f[1]), state: f[0]!, startTime: f[19]! };
  } catch {
    return undefined;
  }
}

/** Is this very process (same start time: no PID-reuse confusion) still running? A zombie has ended. */
function running(pid: number, startTime: string): boolean {
  const p = proc(pid);
  return p !== undefined && p.startTime === startTime && p.state !== 'Z';
}

/** Does the process hold a TCP socket in LISTEN on this port (its own namespace's /proc/PID/net/tcp)? */
function listensOn(pid: number, port: number): boolean {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A')
      .map((f) => `socket:[${f[9]}]`);
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Can this kernel create an 802.1Q subinterface? Probed once, in a throwaway namespace. */
function vlanSkipReason(): string | undefined {
  if (!isRoot) return undefined; // needsRoot states that reason
  if (existsSync('/proc/net/vlan')) return undefined;
  const ns = `st8021q-${randomSuffix()}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    spawnSync('ip', ['-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    const r = spawnSync('ip', ['-n', ns, 'link', 'add', 'link', 'v0', 'name', 'v0.5', 'type', 'vlan', 'id', '5'], { encoding: 'utf8' });
    return r.status === 0 ? undefined : `no 8021q in this kernel (ip link add type vlan: ${r.stderr.trim()})`;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

test.serial('original wire format: every core compat method answers in the {code, message, data} envelope', async (t) => {
  const a = await startNsAgent(t, { ovsdb: true });
  const hello = await originalCall(a.url, a.token, 'say_hello', {});
  t.is(hello.status, 200);
  t.deepEqual(hello.json.result, { code: 0, message: 'hello', data: {} });

  const gi = await originalCall(a.url, a.token, 'get_interface', { interface: a.ifA });
  t.is(gi.json.result.code, 0);
  t.is(gi.json.result.data.name, a.ifA);
  t.is(gi.json.result.data.state, 'DOWN');

  const vi = await originalCall(a.url, a.token, 'validate_ip', { ip: '10.0.0.300' });
  t.is(vi.json.result.code, 1);

  const ports = await originalCall(a.url, a.token, 'check_ports_on_br', { bridge: a.bridge, ports: [`qvo${a.ifA.slice(3)}`, 'eth3'] });
  t.is(ports.json.result.code, 0);
  t.deepEqual(ports.json.result.data, { [`qvo${a.ifA.slice(3)}`]: true, eth3: false });

  const setup = await originalCall(a.url, a.token, 'setup_link', { interface: a.ifA, cidr: '10.201.0.1/24' });
  t.is(setup.json.result.code, 0);
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: true, addresses: ['10.201.0.1/24'] });

  const td = await originalCall(a.url, a.token, 'teardown_link', { interface: a.ifA });
  t.is(td.json.result.code, 0);
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: false, addresses: [] });

  // positional params (jsonrpclib with *args)
  const vlan = await originalCall(a.url, a.token, 'add_vlan_to_interface', [a.ifA, 100]);
  const has8021q = vlan.json.result.code === 0;
  if (has8021q) {
    t.true((await linkState(a.ns, `${a.ifA}.100`)).exists);
  } else {
    t.is(vlan.json.result.code, 1);
    t.regex(vlan.json.result.message, /8021q/);
    t.false((await linkState(a.ns, `${a.ifA}.100`)).exists);
  }
  // hostile names never reach ip(8)
  const evil = await originalCall(a.url, a.token, 'setup_link', { interface: 'eth0;reboot', cidr: '10.0.0.1/24' });
  t.is(evil.json.error.code, -32602);
  // no token: 401
  const noTok = await originalCall(a.url, 'wrong', 'say_hello', {});
  t.is(noTok.status, 401);
});

test.serial('ledger: kill -9 the agent while it holds link leases; on restart the address and link state are undone', async (t) => {
  const a = await startNsAgent(t);
  const r = await a.client().call(linkSetup, { iface: a.ifA, cidr: '10.202.0.1/24', ttlMs: 3600_000 });
  t.true(r.addedAddress && r.broughtUp);
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: true, addresses: ['10.202.0.1/24'] });
  t.is(leasesOnDisk(a.stateDir).length, 2);

  await a.kill9();
  // the debris is still there while the agent is dead
  t.deepEqual((await linkState(a.ns, a.ifA)).addresses, ['10.202.0.1/24']);

  await a.restart();
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: false, addresses: [] });
  t.deepEqual(leasesOnDisk(a.stateDir), []);
  t.regex(a.log(), /undid a lease left by a previous run/);
});

needsTools(test, ['iperf3']).serial('ledger: kill -9 the agent while it holds a one-off iperf3 server; the orphaned iperf3 is killed when the agent starts again', async (t) => {
  const a = await startNsAgent(t);
  const s = await a.client().call(serverStart, { bind: a.address, ttlMs: 3600_000 });
  const p = proc(s.pid);
  if (p === undefined) return t.fail(`iperf3 ${s.pid} is not running`);
  // last resort if an assertion below fails while it still runs (only this PID, only if it is still this process)
  t.teardown(() => {
    if (running(s.pid, p.startTime)) process.kill(s.pid, 'SIGKILL');
  });
  // the PID the agent reports is its own child: a one-off iperf3 server on that port and address, listening
  t.is(p.ppid, a.pid());
  t.true(/(^|\/)iperf3$/.test(p.argv[0]!), p.argv.join(' '));
  t.deepEqual(p.argv.slice(1), ['-s', '-p', String(s.port), '-J', '-1', '-B', a.address]);
  t.true(listensOn(s.pid, s.port));
  t.deepEqual(leasesOnDisk(a.stateDir).map((l) => [l.kind, l.undo.type, l.undo.pid]), [['iperf-server', 'kill', s.pid]]);

  await a.kill9();
  // nothing else ends it: orphaned (re-parented away from the dead agent), still serving on its port
  t.true(running(s.pid, p.startTime), 'iperf3 survived the agent');
  t.not(proc(s.pid)!.ppid, a.pid());
  t.true(listensOn(s.pid, s.port));

  await a.restart();
  // the agent undoes the ledger's leases before it answers: by now the iperf3 has ended
  t.false(running(s.pid, p.startTime), `iperf3 ${s.pid} still runs after the restart`);
  t.deepEqual(leasesOnDisk(a.stateDir), []);
  t.regex(a.log(), /undid a lease left by a previous run.*iperf-server/);
});

skipWith(test, vlanSkipReason()).serial('ledger: kill -9 the agent while it holds a VLAN subinterface it created; on restart the subinterface is gone', async (t) => {
  const a = await startNsAgent(t);
  const sub = `${a.ifA}.100`;
  const r = await a.client().call(vlanAddToInterface, { iface: a.ifA, vlanId: 100, cidr: '10.205.0.1/24', ttlMs: 3600_000 });
  t.is(r.iface, sub);
  const made = await linkState(a.ns, sub);
  t.true(made.exists);
  t.deepEqual(made.addresses, ['10.205.0.1/24']);
  t.deepEqual(leasesOnDisk(a.stateDir).map((l) => [l.kind, l.undo.type, l.undo.iface]), [['vlan.sub', 'link-del', sub]]);

  await a.kill9();
  t.true((await linkState(a.ns, sub)).exists, 'the subinterface outlives the agent');

  await a.restart();
  t.false((await linkState(a.ns, sub)).exists);
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: false, addresses: [] }, 'the parent is as before');
  t.deepEqual(leasesOnDisk(a.stateDir), []);
});

test.serial('a CLI killed mid-command leaves a lease that expires and is undone by the agent', async (t) => {
  const a = await startNsAgent(t);
  // steth setup-link with a short TTL, killed as soon as the change is visible
  const cli = spawn(process.execPath, [CLI_BIN, '--config', a.confPath, 'setup-link', 'core', a.ifA, '10.203.0.1/24', '--ttl', '3'], { stdio: 'ignore' });
  const seen = await until(() => linkState(a.ns, a.ifA), (s) => s.addresses.includes('10.203.0.1/24'), 100, 50);
  cli.kill('SIGKILL');
  t.true(seen.addresses.includes('10.203.0.1/24'));
  t.true(seen.up);
  // the agent undoes it when the lease runs out
  const after = await until(() => linkState(a.ns, a.ifA), (s) => s.addresses.length === 0 && !s.up, 100, 200);
  t.deepEqual(after, { exists: true, up: false, addresses: [] });
  t.deepEqual(leasesOnDisk(a.stateDir), []);
  t.regex(a.log(), /lease expired; undoing/);
});

test.serial('clean shutdown (SIGTERM) releases every lease', async (t) => {
  const a = await startNsAgent(t);
  await a.client().call(linkSetup, { iface: a.ifB, cidr: '10.204.0.1/24' });
  t.deepEqual((await linkState(a.ns, a.ifB)).addresses, ['10.204.0.1/24']);
  await a.stop();
  t.deepEqual(await linkState(a.ns, a.ifB), { exists: true, up: false, addresses: [] });
  t.deepEqual(leasesOnDisk(a.stateDir), []);
});
