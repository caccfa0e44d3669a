/**
 * A real steth-agent process inside a namespace this test creates:
 *   root ns  stc<sfx>r 10.X.Y.1/30  <-veth->  stc<sfx>n 10.X.Y.2/30  in netns stcore-<sfx>
 * plus a spare veth pair (cva<sfx> / cvb<sfx>, both DOWN) inside the namespace
 * for link changes, and optionally a private ovsdb-server (unix socket in a temp
 * dir) with a bridge. Everything is removed in t.teardown; only PIDs started
 * here are signalled.
 *
 * `originalCall` speaks the original steth client's wire format (jsonrpclib: POST
 * /RPC2, method + keyword or positional params) to any agent URL, lab agents too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/host/exec.js';
import { AgentClient } from '../../src/rpc/client.js';
import { agentHello } from '../../agent/contract.js';
import { randomSuffix, type HasTeardown } from '../helpers/env.js';

const here = dirname(fileURLToPath(import.meta.url));
export const AGENT_BIN = join(here, '..', '..', 'bin', 'steth-agent.js');
export const CLI_BIN = join(here, '..', '..', 'bin', 'steth.js');

export interface NsAgent {
  ns: string;
  /** the agent's address (on stc<sfx>n, inside the namespace) */
  address: string;
  url: string;
  token: string;
  dir: string;
  stateDir: string;
  confPath: string;
  /** spare veth ends inside the namespace (DOWN, no address) */
  ifA: string;
  ifB: string;
  ovsdb?: string;
  bridge?: string;
  pid(): number;
  client(): AgentClient;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

async function waitHello(url: string, token: string, proc: ChildProcess, logFile: string): Promise<void> {
  const c = new AgentClient({ name: 'e2e', url, token, timeoutMs: 1000 });
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`agent exited: ${readFileSync(logFile, 'utf8').slice(-600)}`);
    try {
      await c.call(agentHello, {});
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`agent at ${url} did not answer agent.hello`);
}

export async function startNsAgent(t: HasTeardown, opts: { ovsdb?: boolean } = {}): Promise<NsAgent> {
  const sfx = randomSuffix(6);
  const ns = `stcore-${sfx}`;
  const dir = mkdtempSync(join(tmpdir(), `stcore-${sfx}-`));
  const stateDir = join(dir, 'state');
  const token = `tok-${randomSuffix(16)}`;
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const x = 1 + Math.floor(Math.random() * 250);
  const y = Math.floor(Math.random() * 63) * 4;
  const rootIp = `10.${x}.${y}.1`;
  const nsIp = `10.${x}.${y}.2`;
  const rootIf = `stc${sfx}r`;
  const nsIf = `stc${sfx}n`;
  const ifA = `cva${sfx}`;
  const ifB = `cvb${sfx}`;
  let proc: ChildProcess | undefined;
  let ovsPid: number | undefined;
  const cleanup = async (): Promise<void> => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await Promise.race([new Promise((r) => proc!.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    if (ovsPid !== undefined) {
      try {
        process.kill(ovsPid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    await run('ip', ['netns', 'del', ns], { allowFail: true });
    await run('ip', ['link', 'del', rootIf], { allowFail: true });
    rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(cleanup);
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'set', 'lo', 'up'], { netns: ns });
  await run('ip', ['link', 'add', rootIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns]);
  await run('ip', ['addr', 'add', `${rootIp}/30`, 'dev', rootIf]);
  await run('ip', ['link', 'set', rootIf, 'up']);
  await run('ip', ['addr', 'add', `${nsIp}/30`, 'dev', nsIf], { netns: ns });
  await run('ip', ['link', 'set', nsIf, 'up'], { netns: ns });
  await run('ip', ['link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB], { netns: ns });

  let ovsdb: string | undefined;
  let bridge: string | undefined;
  if (opts.ovsdb) {
    const db = join(dir, 'conf.db');
    await run('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
    ovsdb = `unix:${join(dir, 'db.sock')}`;
    await run('ovsdb-server', [db, `--remote=p${ovsdb}`, `--pidfile=${join(dir, 'ovsdb.pid')}`, `--unixctl=${join(dir, 'ovsdb.ctl')}`, '--detach', `--log-file=${join(dir, 'ovsdb.log')}`]);
    ovsPid = Number(readFileSync(join(dir, 'ovsdb.pid'), 'utf8').trim());
    bridge = `brc${sfx}`;
    const v = (args: string[]): Promise<unknown> => run('ovs-vsctl', [`--db=${ovsdb}`, '--no-wait', ...args]);
    await v(['add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev']);
    await v(['add-port', bridge, `qvo${sfx}`, 'tag=7', '--', 'set', 'interface', `qvo${sfx}`, 'external_ids:iface-id=0b7c1b2a-1111-4222-8333-944455556666', 'external_ids:attached-mac=fa:16:3e:11:22:33']);
    await v(['add-port', bridge, `phy${sfx}`, 'trunks=100,200']);
  }

  const logFile = join(dir, 'agent.log');
  const url = `http://${nsIp}:9698`;
  const launch = async (): Promise<void> => {
    const args = ['netns', 'exec', ns, process.execPath, AGENT_BIN, '--listen', nsIp, '--port', '9698', '--token-file', join(dir, 'token'), '--state-dir', stateDir, '--node-name', `core-${sfx}`, '--log-level', 'debug'];
    if (ovsdb) args.push('--ovsdb', ovsdb);
    const { openSync } = await import('node:fs');
    const fd = openSync(logFile, 'a');
    proc = spawn('ip', args, { stdio: ['ignore', fd, fd] });
    await waitHello(url, token, proc, logFile);
  };
  await launch();
  const confPath = join(dir, 'steth.conf');
  writeFileSync(confPath, `token_file = ${join(dir, 'token')}\ntimeout = 10\n\n[agent core]\nurl = ${url}\nrole = compute\nnet_nic = ${ifA}\n`);

  const a: NsAgent = {
    ns,
    address: nsIp,
    url,
    token,
    dir,
    stateDir,
    confPath,
    ifA,
    ifB,
    pid: () => proc!.pid!,
    client: () => new AgentClient({ name: 'core', url, token, timeoutMs: 10_000 }),
    async kill9() {
      const p = proc!;
      p.kill('SIGKILL');
      if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once('exit', r));
    },
    async restart() {
      await launch();
    },
    async stop() {
      const p = proc!;
      p.kill('SIGTERM');
      if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once('exit', r));
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
  if (ovsdb !== undefined) a.ovsdb = ovsdb;
  if (bridge !== undefined) a.bridge = bridge;
  return a;
}

/** `ip -json addr show dev IFACE` inside the namespace → {up, addresses}. */
export async function linkState(ns: string, iface: string): Promise<{ exists: boolean; up: boolean; addresses: string[] }> {
  const r = await run('ip', ['-json', 'addr', 'show', 'dev', iface], { netns: ns, allowFail: true });
  if (r.code !== 0) return { exists: false, up: false, addresses: [] };
  const [l] = JSON.parse(r.stdout) as Array<{ flags: string[]; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
  return { exists: true, up: l!.flags.includes('UP'), addresses: l!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) };
}

export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, tries = 100, everyMs = 200): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    v = await fn();
  }
  return v;
}

/** What jsonrpclib (the original client) puts on the wire: POST /RPC2, its headers, keyword (object) or positional (array) params. */
export function originalCall(url: string, token: string, method: string, params: unknown): Promise<{ status: number; json: any }> {
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
