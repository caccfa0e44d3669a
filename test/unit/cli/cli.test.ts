/**
 * The CLI in-process (runCli with fake streams) against a real agent started
 * in-process on loopback: output formats, exit codes, parse-time validation,
 * JSON errors, fan-out with an unreachable agent. No root needed.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/run.js';
import { startAgent, type RunningAgent } from '../../../agent/main.js';
import { describeError } from '../../../src/cli/errors.js';

const TOKEN = 'cli-test-token';
let agent: RunningAgent;
let dir: string;
let conf: string;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steth-cli-'));
  agent = await startAgent(
    { listen: '127.0.0.1', port: 0, token: TOKEN, insecure: false, nodeName: 'unit-node', stateDir: join(dir, 'state'), maxConcurrent: 8, logLevel: 'error' },
    () => undefined,
  );
  conf = join(dir, 'steth.conf');
  writeFileSync(conf, `token = ${TOKEN}\ntimeout = 5\n\n[agent local]\nurl = ${agent.url}\nrole = compute\n\n[agent dead]\nhost = 127.0.0.1\nport = 1\n`);
});

test.after.always(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Sink {
  text: string;
  isTTY: boolean;
  columns: number;
  write(s: string): boolean;
}
const sink = (isTTY = false): Sink => ({
  text: '',
  isTTY,
  columns: 120,
  write(s: string) {
    this.text += s;
    return true;
  },
});

async function cli(args: string[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = sink(opts.tty);
  const stderr = sink(opts.tty);
  const { code } = await runCli(['--config', conf, ...args], { stdout, stderr, env: opts.env ?? {} });
  return { code, out: stdout.text, err: stderr.text };
}

test('get-interface piped: TSV without header, verdict on stderr, exit 0', async (t) => {
  const r = await cli(['get-interface', 'local', 'lo']);
  t.is(r.code, 0);
  t.true(r.out.split('\n').includes('name\tlo'));
  t.regex(r.out, /^mtu\t65536$/m);
  t.regex(r.err, /lo on local is up/);
});

test('get-interface -f json: stdout is one JSON document with the report in data', async (t) => {
  const r = await cli(['-f', 'json', 'get-interface', 'local', 'lo']);
  t.is(r.code, 0);
  const j = JSON.parse(r.out) as { ok: boolean; data: { name: string; mtu: number; source: string }; tables: unknown[] };
  t.true(j.ok);
  t.is(j.data.name, 'lo');
  t.is(j.data.mtu, 65536);
  t.is(j.data.source, 'iproute2');
});

test('-c selects columns; -f value / csv print the first table', async (t) => {
  const v = await cli(['-f', 'value', '-c', 'name', '-c', 'mtu', 'get-interface', 'local']);
  t.is(v.code, 0);
  t.true(v.out.split('\n').includes('lo 65536'));
  const c = await cli(['-f', 'csv', '-c', 'Name', 'get-interface', 'local']);
  t.true(c.out.startsWith('name\r\n'));
  t.true(c.out.split('\r\n').includes('lo'));
  const bad = await cli(['-c', 'nosuch', 'get-interface', 'local']);
  t.is(bad.code, 2);
  t.regex(bad.err, /no column 'nosuch'/);
});

test('TTY table has a header; NO_COLOR removes escape codes', async (t) => {
  const colored = await cli(['get-interface', 'local', 'lo'], { tty: true, env: { FORCE_COLOR: '1' } });
  t.regex(colored.out, /FIELD\s+VALUE/);
  t.true(colored.out.includes('\x1b['));
  const plain = await cli(['get-interface', 'local', 'lo'], { tty: true, env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
  t.regex(plain.out, /FIELD\s+VALUE/);
  t.false(plain.out.includes('\x1b['));
});

test('parse-time validation: VLAN 4096, bad interface name, bad CIDR exit 2 before any agent is contacted', async (t) => {
  // 'dead' is unreachable: reaching it would be exit 4, so exit 2 proves nothing was sent
  for (const args of [
    ['add-vlan-to-interface', 'dead', 'eth1', '4096'],
    ['add-vlan-to-interface', 'dead', 'eth1', '0x10'],
    ['get-interface', 'dead', 'eth0;reboot'],
    ['get-interface', 'dead', '../../x'],
    ['setup-link', 'dead', 'eth1', '10.0.0.1'],
    ['check-ports-on-br', 'dead', 'br-int', 'abcdefghijklmnopq'],
    ['find-port', 'not-a-uuid'],
  ]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.err, /invalid for argument/, args.join(' '));
  }
});

test('usage errors in JSON mode: stdout stays valid JSON with {error:{code,message,detail}}', async (t) => {
  const r = await cli(['-f', 'json', 'add-vlan-to-interface', 'local', 'eth1', '4096']);
  t.is(r.code, 2);
  const j = JSON.parse(r.out) as { error: { code: string; message: string; detail: unknown } };
  t.is(j.error.code, 'EUSAGE');
  t.regex(j.error.message, /4096/);
  t.true('detail' in j.error);
  t.is(r.err, '');
  const unknown = await cli(['-f', 'json', 'no-such-command']);
  t.is(unknown.code, 2);
  t.truthy((JSON.parse(unknown.out) as { error: unknown }).error);
});

test('unknown agent name: exit 2 with the known names as hint', async (t) => {
  const r = await cli(['get-interface', 'nosuch', 'lo']);
  t.is(r.code, 2);
  t.regex(r.err, /no agent 'nosuch'/);
  t.regex(r.err, /agents: local, dead/);
});

test('unreachable agent: exit 4; JSON error on stdout', async (t) => {
  const r = await cli(['-f', 'json', 'get-interface', 'dead', 'lo']);
  t.is(r.code, 4);
  const j = JSON.parse(r.out) as { error: { code: string; message: string } };
  t.is(j.error.code, 'EAGENT');
  t.regex(j.error.message, /ECONNREFUSED/);
});

test('interface missing on the agent: exit 2 (remote ENOENT), message from the agent', async (t) => {
  const r = await cli(['get-interface', 'local', 'nosuch0']);
  t.is(r.code, 2);
  t.regex(r.err, /no interface 'nosuch0'/);
});

test('wrong token: exit 4 and the 401 is explained', async (t) => {
  const r = await cli(['--token', 'wrong', 'get-interface', 'local', 'lo']);
  t.is(r.code, 4);
  t.regex(r.err, /401/);
});

test('print-agents-info fans out: the unreachable agent is a row, exit 4, the other still answers', async (t) => {
  const r = await cli(['-f', 'json', 'print-agents-info']);
  t.is(r.code, 4);
  const j = JSON.parse(r.out) as { ok: boolean; data: { agents: Array<{ name: string; reachable: boolean; version: string | null; error: string | null }> } };
  t.false(j.ok);
  const byName = Object.fromEntries(j.data.agents.map((a) => [a.name, a]));
  t.true(byName.local!.reachable);
  t.is(byName.local!.version, '0.1.0');
  t.false(byName.dead!.reachable);
  t.regex(byName.dead!.error!, /unreachable/);
  const off = await cli(['print-agents-info', '--offline']);
  t.is(off.code, 0);
});

test('help exit-codes documents every code; --version and --help exit 0', async (t) => {
  const r = await cli(['help', 'exit-codes']);
  t.is(r.code, 0);
  for (const c of ['0 ', '1 ', '2 ', '3 ', '4 ', '130']) t.true(r.out.includes(`  ${c}`), c);
  t.is((await cli(['--version'])).code, 0);
  const h = await cli(['--help']);
  t.is(h.code, 0);
  for (const name of ['print-agents-info', 'get-interface', 'setup-link', 'teardown-link', 'add-vlan-to-interface', 'check-ports-on-br']) t.true(h.out.includes(name), name);
  const hc = await cli(['help', 'setup-link']);
  t.is(hc.code, 0);
  t.regex(hc.out, /Usage: steth setup-link/);
});

test('error mapping: EPERM from the OS says how to fix it and exits 3', (t) => {
  const e = Object.assign(new Error('socket: Operation not permitted'), { code: 'EPERM', syscall: 'socket' });
  const d = describeError(e);
  t.is(d.exitCode, 3);
  t.regex(d.hint!, /run as root or grant CAP_NET_RAW/);
});

test('SIGINT while waiting on an agent: exit 130 and the pending request is abandoned (the agent sees the hang-up)', async (t) => {
  const { createServer } = await import('node:net');
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { dirname } = await import('node:path');
  // an "agent" that accepts and never answers
  let connected = 0;
  let closed = 0;
  const hang = createServer((s) => {
    connected++;
    s.on('close', () => void closed++);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.teardown(() => void hang.close());
  const port = (hang.address() as { port: number }).port;
  const conf2 = join(dir, 'hang.conf');
  writeFileSync(conf2, `timeout = 120\n[agent hang]\nurl = http://127.0.0.1:${port}\n`);
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'steth.js');
  const child = spawn(process.execPath, [bin, '--config', conf2, 'get-interface', 'hang', 'lo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (let i = 0; i < 200 && connected === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(connected, 1);
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  t.is(code, 130);
  for (let i = 0; i < 100 && closed === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(closed, 1);
});
