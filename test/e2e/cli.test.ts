/**
 * Every original steth command through the real bin/steth process against a
 * real agent in a namespace of the test's own (with a private OVSDB), checking
 * the host afterwards, not just the exit code.
 */
import anyTest from 'ava';
import { execFile } from 'node:child_process';
import { needsRoot, needsTools } from '../helpers/env.js';
import { startNsAgent, linkState, CLI_BIN, type NsAgent } from './agent-fixture.js';

const test = needsTools(needsRoot(anyTest), ['ovsdb-server', 'ovs-vsctl']);

function steth(a: NsAgent, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, '--config', a.confPath, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      resolve({ code: typeof code === 'number' ? code : -1, out: String(stdout), err: String(stderr) });
    });
  });
}

let agent: NsAgent | undefined;
// one agent for the file: its cleanup runs in after.always (a hook's own
// t.teardown would run as soon as the before hook ends)
const teardowns: Array<() => void | Promise<void>> = [];
test.before(async () => {
  agent = await startNsAgent({ teardown: (fn) => void teardowns.push(fn) }, { ovsdb: true });
});
test.after.always(async () => {
  for (const fn of teardowns.reverse()) await fn();
});

test.serial('print-agents-info: the agent answers with its version and node name', async (t) => {
  const r = await steth(agent!, ['-f', 'json', 'print-agents-info']);
  t.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { data: { agents: Array<{ name: string; reachable: boolean; version: string }> } };
  t.deepEqual(j.data.agents.map((x) => [x.name, x.reachable, x.version]), [['core', true, '0.1.0']]);
});

test.serial('get-interface AGENT IFACE: the report matches the host', async (t) => {
  const a = agent!;
  const r = await steth(a, ['-f', 'json', 'get-interface', 'core', a.ifA]);
  t.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { data: { name: string; kind: string; adminUp: boolean; mtu: number; link: string } };
  t.is(j.data.name, a.ifA);
  t.is(j.data.kind, 'veth');
  t.false(j.data.adminUp);
  t.is(j.data.mtu, 1500);
  t.is(j.data.link, a.ifB);
});

test.serial('setup-link then teardown-link: address and link state appear and go', async (t) => {
  const a = agent!;
  const up = await steth(a, ['setup-link', 'core', a.ifA, '10.205.0.1/24']);
  t.is(up.code, 0, up.err);
  t.regex(up.err, /brought up, added 10\.205\.0\.1\/24/);
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: true, addresses: ['10.205.0.1/24'] });
  const again = await steth(a, ['setup-link', 'core', a.ifA, '10.205.0.1/24']);
  t.is(again.code, 0);
  t.regex(again.err, /already up, 10\.205\.0\.1\/24 already present/);
  const down = await steth(a, ['-f', 'json', 'teardown-link', 'core', a.ifA]);
  t.is(down.code, 0, down.err);
  const j = JSON.parse(down.out) as { data: { undone: string[] } };
  t.deepEqual(j.data.undone.sort(), ['address 10.205.0.1/24 deleted', 'link set down']);
  t.deepEqual(await linkState(a.ns, a.ifA), { exists: true, up: false, addresses: [] });
});

test.serial('add-vlan-to-interface: a subinterface where 8021q exists, else a typed error and nothing created', async (t) => {
  const a = agent!;
  const r = await steth(a, ['-f', 'json', 'add-vlan-to-interface', 'core', a.ifA, '100']);
  if (r.code === 0) {
    t.true((await linkState(a.ns, `${a.ifA}.100`)).exists);
    t.is((await steth(a, ['teardown-link', 'core', `${a.ifA}.100`])).code, 0);
    t.false((await linkState(a.ns, `${a.ifA}.100`)).exists);
  } else {
    t.is(r.code, 4);
    const j = JSON.parse(r.out) as { error: { code: string; message: string; detail: { hint: string } } };
    t.is(j.error.code, 'ETOOL');
    t.regex(j.error.message, /8021q module is not available/);
    t.regex(j.error.detail.hint, /check-vlan-interface/);
    t.false((await linkState(a.ns, `${a.ifA}.100`)).exists);
  }
  const bad = await steth(a, ['add-vlan-to-interface', 'core', a.ifA, '4095']);
  t.is(bad.code, 2);
});

test.serial('check-ports-on-br: present ports pass (exit 0), a missing port is a fault (exit 1)', async (t) => {
  const a = agent!;
  const sfx = a.ifA.slice(3);
  const ok = await steth(a, ['-f', 'json', 'check-ports-on-br', 'core', a.bridge!, `qvo${sfx}`, `phy${sfx}`]);
  t.is(ok.code, 0, ok.err);
  const j = JSON.parse(ok.out) as { ok: boolean; data: { requested: Array<{ port: string; present: boolean; tag: number | null; iface_id: string | null }> } };
  t.true(j.ok);
  t.deepEqual(j.data.requested[0], { port: `qvo${sfx}`, present: true, tag: 7, ofport: null, type: '', iface_id: '0b7c1b2a-1111-4222-8333-944455556666', error: null } as never);
  const miss = await steth(a, ['check-ports-on-br', 'core', a.bridge!, `qvo${sfx}`, 'eth3']);
  t.is(miss.code, 1);
  t.regex(miss.err, new RegExp(`not on ${a.bridge}: eth3`));
  const nobr = await steth(a, ['check-ports-on-br', 'core', 'br-nope', 'eth3']);
  t.is(nobr.code, 2);
  t.regex(nobr.err, /no OVS bridge 'br-nope'/);
});

test.serial('find-port: the Neutron port id is found on the agent OVSDB', async (t) => {
  const a = agent!;
  const r = await steth(a, ['-f', 'value', '-c', 'agent', '-c', 'bridge', '-c', 'tag', 'find-port', '0b7c1b2a-1111-4222-8333-944455556666']);
  t.is(r.code, 0, r.err);
  t.is(r.out.trim(), `core ${a.bridge} 7`);
});
