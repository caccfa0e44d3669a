/**
 * print-agents-info with OpenStack credentials: Neutron's agent list beside the
 * configured steth agents (a real steth agent in-process on loopback, the fake
 * Keystone + Neutron of test/unit/openstack/fake.ts): both tables in every
 * format, which steth agent runs on each Neutron host, the notes, the exit codes
 * when Neutron reports a dead agent or cannot be asked (Keystone down, 401,
 * timeout, unusable credentials) — the steth table prints in every case — and,
 * without credentials, the unchanged output with src/openstack never loaded.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../../src/cli/run.js';
import { neutronAgentsPart, stethAgentFor } from '../../../src/cli/commands/neutron-agents.js';
import { startAgent, type RunningAgent } from '../../../agent/main.js';
import { json, PASSWORD, startFakeCloud, type FakeCloud } from '../openstack/fake.js';

const TOKEN = 'agents-neutron-test-token';
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'steth.js');
let agent: RunningAgent;
let dir: string;
let conf: string;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steth-agents-neutron-'));
  agent = await startAgent(
    { listen: '127.0.0.1', port: 0, token: TOKEN, insecure: false, nodeName: 'unit-node', stateDir: join(dir, 'state'), maxConcurrent: 8, logLevel: 'error' },
    () => undefined,
  );
  conf = join(dir, 'steth.conf');
  // three steth agents (one process): two hosts Neutron knows, one it does not
  writeFileSync(conf, `token = ${TOKEN}\ntimeout = 5\n\n[agent network-1]\nurl = ${agent.url}\nrole = network\n\n[agent compute-1]\nurl = ${agent.url}\nrole = compute\n\n[agent storage-1]\nurl = ${agent.url}\n`);
});

test.after.always(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Sink { text: string; isTTY: boolean; columns: number; write(s: string): boolean }
const sink = (isTTY = false): Sink => ({
  text: '',
  isTTY,
  columns: 200,
  write(s: string) {
    this.text += s;
    return true;
  },
});

async function cli(args: string[], env: NodeJS.ProcessEnv, opts: { tty?: boolean } = {}) {
  const stdout = sink(opts.tty);
  const stderr = sink(opts.tty);
  const { code } = await runCli(['--config', conf, ...args], { stdout, stderr, env: opts.tty ? { NO_COLOR: '1', ...env } : env });
  return { code, out: stdout.text, err: stderr.text };
}

async function withCloud(t: { teardown(fn: () => unknown): void }): Promise<FakeCloud> {
  const c = await startFakeCloud();
  t.teardown(() => c.close());
  return c;
}

const osEnv = (cloud: { authUrl: string }, password = PASSWORD): NodeJS.ProcessEnv => ({
  OS_AUTH_URL: cloud.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: password, OS_PROJECT_NAME: 'admin',
});

const agentRow = (id: string, host: string, type: string, binary: string, alive = true, adminStateUp = true) =>
  ({ id, host, agent_type: type, binary, alive, admin_state_up: adminStateUp, heartbeat_timestamp: '2026-01-01 00:00:00' });

/** network-1 (OVS + DHCP), compute-1 by its FQDN, compute-9 with no steth agent. */
function seedAgents(cloud: FakeCloud): void {
  cloud.resources.agents!.push(
    agentRow('a1', 'network-1', 'Open vSwitch agent', 'neutron-openvswitch-agent'),
    agentRow('a2', 'network-1', 'DHCP agent', 'neutron-dhcp-agent'),
    agentRow('a3', 'compute-1.example.org', 'Open vSwitch agent', 'neutron-openvswitch-agent'),
    agentRow('a4', 'compute-9', 'Open vSwitch agent', 'neutron-openvswitch-agent'),
  );
}

interface Json {
  ok: boolean;
  verdict: string;
  data: { agents: Array<{ name: string; reachable: boolean }>; neutron?: { source: string | null; agents: Array<Record<string, unknown>>; notes: string[]; error?: { code: string; message: string; hint?: string } } };
  tables: Array<{ title?: string; columns: string[]; rows: Array<Record<string, unknown>> }>;
}

test('with OS_* credentials -f json has the steth table and Neutron\'s agents, each with the steth agent on its host; notes name the OVS host without one and the steth agent Neutron does not know', async (t) => {
  const cloud = await withCloud(t);
  seedAgents(cloud);
  const r = await cli(['-f', 'json', 'print-agents-info'], osEnv(cloud));
  t.is(r.code, 0, r.out);
  const j = JSON.parse(r.out) as Json;
  t.true(j.ok);
  t.regex(j.verdict, /^all 3 agents answer; Neutron: all 4 agents alive$/);
  t.deepEqual(j.tables.map((x) => x.title), ['steth agents', 'Neutron agents (OS_* environment)', 'Notes']);
  t.deepEqual(j.tables[1]!.columns, ['host', 'type', 'binary', 'alive', 'admin_state_up', 'steth_agent']);
  t.deepEqual(j.tables[1]!.rows.map((x) => [x.host, x.type, x.binary, x.alive, x.admin_state_up, x.steth_agent]), [
    ['compute-1.example.org', 'Open vSwitch agent', 'neutron-openvswitch-agent', true, true, 'compute-1'],
    ['compute-9', 'Open vSwitch agent', 'neutron-openvswitch-agent', true, true, null],
    ['network-1', 'DHCP agent', 'neutron-dhcp-agent', true, true, 'network-1'],
    ['network-1', 'Open vSwitch agent', 'neutron-openvswitch-agent', true, true, 'network-1'],
  ]);
  const n = j.data.neutron!;
  t.is(n.source, 'OS_* environment');
  t.is(n.agents.length, 4);
  t.like(n.agents[0], { host: 'compute-1.example.org', type: 'Open vSwitch agent', alive: true, adminStateUp: true, stethAgent: 'compute-1' });
  t.deepEqual(n.notes, [
    'compute-9 runs an Open vSwitch agent but has no steth agent configured',
    `steth agent storage-1 (unit-node${hostname() === 'unit-node' ? '' : `, ${hostname()}`}): Neutron has no agent on this host`,
  ]);
  t.deepEqual(j.tables[2]!.rows.map((x) => x.Note), n.notes);
  // the steth part is what it was: every configured agent answered
  t.deepEqual(j.data.agents.map((a) => [a.name, a.reachable]), [['network-1', true], ['compute-1', true], ['storage-1', true]]);
  // Neutron was asked with the token Keystone issued; the password is nowhere in the output
  t.true(cloud.requests.some((q) => q.path.endsWith('/v2.0/agents') && q.token === cloud.tokens[0]));
  t.false(r.out.includes(PASSWORD) || r.err.includes(PASSWORD));
  for (const tok of cloud.tokens) t.false(r.out.includes(tok));
});

test('table and TSV render both tables; -c picks the Neutron table by its columns', async (t) => {
  const cloud = await withCloud(t);
  seedAgents(cloud);
  const tty = await cli(['print-agents-info'], osEnv(cloud), { tty: true });
  t.is(tty.code, 0);
  const lines = tty.out.split('\n');
  t.true(lines.includes('steth agents'));
  t.true(lines.includes('Neutron agents (OS_* environment)'));
  t.true(lines.some((l) => /^HOST\s+TYPE\s+BINARY\s+ALIVE\s+ADMIN_STATE_UP\s+STETH_AGENT$/.test(l)), tty.out);
  t.true(lines.some((l) => /^compute-9\s+Open vSwitch agent\s+neutron-openvswitch-agent\s+yes\s+yes$/.test(l)), tty.out);
  t.true(lines.some((l) => /^NAME\s+URL\s+ROLE/.test(l)));
  t.regex(tty.out, /all 3 agents answer; Neutron: all 4 agents alive/);
  const tsv = await cli(['print-agents-info'], osEnv(cloud));
  const rows = tsv.out.split('\n');
  t.true(rows.includes('network-1\tDHCP agent\tneutron-dhcp-agent\tyes\tyes\tnetwork-1'), tsv.out);
  t.true(rows.some((l) => l.startsWith(`compute-1\t${agent.url}\tcompute\t`)), tsv.out);
  t.true(rows.includes('compute-9 runs an Open vSwitch agent but has no steth agent configured'));
  t.is(tsv.err, 'all 3 agents answer; Neutron: all 4 agents alive\n');
  const v = await cli(['print-agents-info', '-c', 'host', '-c', 'alive', '-f', 'value'], osEnv(cloud));
  t.is(v.out, 'compute-1.example.org yes\ncompute-9 yes\nnetwork-1 yes\nnetwork-1 yes\n');
  // the original example still selects the steth table
  const s = await cli(['print-agents-info', '-c', 'name', '-c', 'reachable', '-f', 'value'], osEnv(cloud));
  t.is(s.out, 'network-1 yes\ncompute-1 yes\nstorage-1 yes\n');
});

test('an enabled Neutron agent that is not alive is a fault (exit 1) named in the verdict; a disabled dead one is not', async (t) => {
  const cloud = await withCloud(t);
  seedAgents(cloud);
  cloud.resources.agents!.push(agentRow('a5', 'compute-1.example.org', 'Metadata agent', 'neutron-metadata-agent', false, false));
  const off = await cli(['-f', 'json', 'print-agents-info'], osEnv(cloud));
  t.is(off.code, 0);
  t.regex((JSON.parse(off.out) as Json).verdict, /Neutron: 4 of 5 agents alive \(the others are disabled\)$/);
  cloud.resources.agents!.find((a) => a.id === 'a3')!.alive = false;
  const r = await cli(['-f', 'json', 'print-agents-info'], osEnv(cloud));
  t.is(r.code, 1);
  const j = JSON.parse(r.out) as Json;
  t.false(j.ok);
  t.regex(j.verdict, /^all 3 agents answer; Neutron: 1 of 5 agents not alive: Open vSwitch agent on compute-1\.example\.org$/);
});

test('Keystone down: the steth table still prints, the verdict and a note say why, exit 4', async (t) => {
  const cloud = await startFakeCloud();
  await cloud.close(); // its port now refuses connections
  const r = await cli(['-f', 'json', 'print-agents-info'], osEnv(cloud));
  t.is(r.code, 4);
  const j = JSON.parse(r.out) as Json;
  t.false(j.ok);
  t.deepEqual(j.data.agents.map((a) => [a.name, a.reachable]), [['network-1', true], ['compute-1', true], ['storage-1', true]]);
  t.deepEqual(j.tables.map((x) => x.title), ['steth agents', 'Notes']);
  t.is(j.tables[0]!.rows.length, 3);
  t.regex(j.verdict, /^all 3 agents answer; Neutron agent list unavailable: cannot reach Keystone at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
  t.like(j.data.neutron, { source: 'OS_* environment', agents: [] });
  t.is(j.data.neutron!.error!.code, 'EAGENT');
  t.regex(j.data.neutron!.notes[0]!, /^Neutron agent list unavailable: cannot reach Keystone .* \(check the endpoint URL and that Keystone is running\)$/);
  // TTY: the steth table, then the note
  const tty = await cli(['print-agents-info'], osEnv(cloud), { tty: true });
  t.is(tty.code, 4);
  t.regex(tty.out, /^steth agents\nNAME\s+URL[^\n]*\nnetwork-1\s/);
  t.regex(tty.out, /\nNotes\nNOTE\nNeutron agent list unavailable: cannot reach Keystone/);
});

test('a wrong password: Keystone\'s 401 is a note and exit 4; the password is in no output', async (t) => {
  const cloud = await withCloud(t);
  seedAgents(cloud);
  const wrong = 'wrong-Pa55-for-agents';
  const r = await cli(['-f', 'json', 'print-agents-info'], osEnv(cloud, wrong));
  t.is(r.code, 4);
  const j = JSON.parse(r.out) as Json;
  t.is(j.data.neutron!.error!.code, 'EPERM');
  t.regex(j.verdict, /; Neutron agent list unavailable: Keystone at http:\/\/127\.0\.0\.1:\d+ rejected the credentials from OS_\* environment$/);
  t.is(j.tables[0]!.rows.length, 3);
  const tsv = await cli(['print-agents-info'], osEnv(cloud, wrong));
  t.is(tsv.code, 4);
  for (const text of [r.out, r.err, tsv.out, tsv.err]) t.false(text.includes(wrong));
});

test('Neutron not answering within --timeout: ETIMEDOUT note, exit 4, the steth table still prints', async (t) => {
  const cloud = await withCloud(t);
  cloud.handlers.push((q) => q.path.endsWith('/v2.0/agents')); // taken, never answered
  const r = await cli(['--timeout', '2', '-f', 'json', 'print-agents-info'], osEnv(cloud));
  t.is(r.code, 4);
  const j = JSON.parse(r.out) as Json;
  t.is(j.data.neutron!.error!.code, 'ETIMEDOUT');
  t.regex(j.verdict, /; Neutron agent list unavailable: Keystone and Neutron did not list the agents within 2 s$/);
  t.deepEqual(j.data.agents.map((a) => a.name), ['network-1', 'compute-1', 'storage-1']);
});

test('credentials that cannot be used (OS_CLOUD not in clouds.yaml) are a configuration error: exit 2, the steth table prints', async (t) => {
  const yaml = join(dir, 'clouds.yaml');
  writeFileSync(yaml, 'clouds:\n  other:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n');
  const r = await cli(['-f', 'json', 'print-agents-info'], { OS_CLIENT_CONFIG_FILE: yaml, OS_CLOUD: 'lab' });
  t.is(r.code, 2);
  const j = JSON.parse(r.out) as Json;
  t.is(j.data.neutron!.error!.code, 'ECONFIG');
  t.is(j.data.neutron!.source, null);
  t.regex(j.verdict, /Neutron agent list unavailable: cloud 'lab' is not in /);
  t.is(j.tables[0]!.rows.length, 3);
});

test('--offline with credentials does not ask Neutron', async (t) => {
  const cloud = await withCloud(t);
  seedAgents(cloud);
  const r = await cli(['-f', 'json', 'print-agents-info', '--offline'], osEnv(cloud));
  t.is(r.code, 0);
  t.is(cloud.requests.length, 0);
  t.is((JSON.parse(r.out) as Json).data.neutron, undefined);
});

test('without credentials the output is the steth table alone, as before', async (t) => {
  const r = await cli(['-f', 'json', 'print-agents-info'], {});
  t.is(r.code, 0);
  const j = JSON.parse(r.out) as Json;
  t.is(j.verdict, 'all 3 agents answer');
  t.is(j.tables.length, 1);
  t.is(j.tables[0]!.title, undefined);
  t.false('neutron' in j.data);
  const tty = await cli(['print-agents-info'], {}, { tty: true });
  t.regex(tty.out, /^NAME\s+URL/);
});

function trace(env: NodeJS.ProcessEnv, traceFile: string): Promise<{ code: number; modules: string[] }> {
  // a resolve hook (module.register) that writes every module URL the CLI loads to traceFile
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, "import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) {\n  const r = await next(s, c);\n  appendFileSync(process.env.STETH_TRACE_FILE, r.url + '\\n');\n  return r;\n}\n");
  const reg = join(dir, 'register.mjs');
  writeFileSync(reg, "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
  writeFileSync(traceFile, '');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', reg, BIN, '--config', conf, '-f', 'json', 'print-agents-info'], { env: { PATH: process.env.PATH, HOME: dir, STETH_TRACE_FILE: traceFile, ...env }, timeout: 60_000 }, (err) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, modules: readFileSync(traceFile, 'utf8').split('\n').filter(Boolean) });
    });
  });
}

test('without credentials the steth process never loads src/openstack (with them it does)', async (t) => {
  const without = await trace({}, join(dir, 'trace-without'));
  t.is(without.code, 0);
  t.true(without.modules.some((m) => m.endsWith('/src/cli/commands/agents.js')), 'the trace sees the CLI modules');
  t.deepEqual(without.modules.filter((m) => m.includes('/src/openstack/')), []);
  const cloud = await withCloud(t);
  seedAgents(cloud);
  const withCreds = await trace(osEnv(cloud), join(dir, 'trace-with'));
  t.is(withCreds.code, 0);
  t.true(withCreds.modules.some((m) => m.endsWith('/src/openstack/index.js')));
});

test('stethAgentFor: a Neutron host matches a steth agent by configured name, reported node name or hostname, exactly first, then by short name', (t) => {
  const steth = [
    { name: 'cmp1', nodeName: 'compute-1', hostname: 'node17.dc.example' },
    { name: 'net', nodeName: null, hostname: null },
    { name: 'compute-1.example.org' },
  ];
  t.is(stethAgentFor('compute-1', steth), 'cmp1');
  t.is(stethAgentFor('node17', steth), 'cmp1');
  t.is(stethAgentFor('NET.dc.example', steth), 'net');
  t.is(stethAgentFor('compute-1.example.org', steth), 'compute-1.example.org');
  t.is(stethAgentFor('compute-2', steth), null);
});

test('neutronAgentsPart: an empty agent list is no fault and adds no "unknown host" notes', (t) => {
  const p = neutronAgentsPart({ source: 'x', rows: [] }, [{ name: 'a' }]);
  t.true(p.ok);
  t.is(p.exitCode, 0);
  t.is(p.verdict, 'Neutron lists no agents');
  t.deepEqual(p.notes, []);
});
