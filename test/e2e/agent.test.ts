/**
 * A real steth-agent in a namespace of the test's own:
 *  - an original-style client (POST /RPC2, method + keyword params, Bearer token)
 *    gets the original {code, message, data} envelope;
 *  - ledger: kill -9 the agent while it holds link-setup leases on a veth,
 *    restart it, the address and the link state are undone;
 *  - a CLI killed mid-command leaves a lease that expires and is undone.
 */
import anyTest from 'ava';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsTools } from '../helpers/env.js';
import { startNsAgent, linkState, until, CLI_BIN } from './agent-fixture.js';
import { linkSetup } from '../../probes/link/contract.js';

const test = needsTools(needsRoot(anyTest), ['ovsdb-server', 'ovs-vsctl']);

/** What jsonrpclib (the original client) puts on the wire. */
function originalCall(url: string, token: string, method: string, params: unknown): Promise<{ status: number; json: any }> {
  const u = new URL(url);
  const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: Math.random().toString(36).slice(2) });
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: Number(u.port), path: '/RPC2', method: 'POST', headers: { 'content-type': 'application/json-rpc', authorization: `Bearer ${token}`, 'user-agent': 'jsonrpclib/0.1 (Python 2.7)' } },
      (res) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: s ? JSON.parse(s) : null }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const leasesOnDisk = (stateDir: string): Array<{ kind: string }> => (JSON.parse(readFileSync(join(stateDir, 'ledger.json'), 'utf8')) as { leases: Array<{ kind: string }> }).leases;

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
