/**
 * The host operations the lab is built from: batched iproute2, one OVS pair per
 * namespace, flows, daemons by recorded PID. Every tool runs through
 * src/host/exec.ts run() with an argv; long-running processes that do not
 * daemonize themselves (agents, relays) are spawned with an argv too.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StethError } from '../errors.js';
import { run, type RunResult } from '../host/exec.js';
import { assertNetnsName } from '../validate.js';

export const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** `ip [-n NS] [-force] -batch -` with the given lines (one process for many changes). */
export async function ipBatch(lines: readonly string[], opts: { netns?: string; force?: boolean } = {}): Promise<RunResult> {
  if (lines.length === 0) return { stdout: '', stderr: '', code: 0 };
  const args: string[] = [];
  if (opts.netns !== undefined) args.push('-n', assertNetnsName(opts.netns));
  if (opts.force) args.push('-force');
  args.push('-batch', '-');
  return await run('ip', args, { input: `${lines.join('\n')}\n`, allowFail: opts.force === true, timeoutMs: 30_000 });
}

export function ovsEnv(rundir: string): Record<string, string> {
  return { OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir, OVS_PKGDATADIR: '/usr/share/openvswitch' };
}

/** ovs-vsctl against one node's database; args may hold several commands separated by '--'. */
export async function vsctl(rundir: string, args: readonly string[], opts: { noWait?: boolean; allowFail?: boolean; timeoutS?: number } = {}): Promise<RunResult> {
  const argv = [`--db=unix:${join(rundir, 'db.sock')}`, `--timeout=${opts.timeoutS ?? 20}`];
  if (opts.noWait) argv.push('--no-wait');
  argv.push(...args);
  return await run('ovs-vsctl', argv, { env: ovsEnv(rundir), timeoutMs: ((opts.timeoutS ?? 20) + 5) * 1000, allowFail: opts.allowFail === true });
}

/** ovs-ofctl -O OpenFlow13 against a bridge of one node (its mgmt socket in the rundir). */
export async function ofctl(rundir: string, args: readonly string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<RunResult> {
  const o: Parameters<typeof run>[2] = { env: ovsEnv(rundir), timeoutMs: 20_000, allowFail: opts.allowFail === true };
  if (opts.input !== undefined) o.input = opts.input;
  return await run('ovs-ofctl', ['-O', 'OpenFlow13', ...args], o);
}

export const bridgeTarget = (rundir: string, bridge: string): string => `unix:${join(rundir, `${bridge}.mgmt`)}`;

/** Replace a bridge's whole flow table with `flows` (one flow per line). */
export async function replaceFlows(rundir: string, bridge: string, flows: readonly string[]): Promise<void> {
  await ofctl(rundir, ['replace-flows', bridgeTarget(rundir, bridge), '-'], { input: `${flows.join('\n')}\n` });
}

export async function addFlows(rundir: string, bridge: string, flows: readonly string[]): Promise<void> {
  await ofctl(rundir, ['add-flows', bridgeTarget(rundir, bridge), '-'], { input: `${flows.join('\n')}\n` });
}

export async function dumpFlows(rundir: string, bridge: string): Promise<string[]> {
  const r = await ofctl(rundir, ['dump-flows', '--no-stats', bridgeTarget(rundir, bridge)]);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('OFPST_FLOW') && !l.startsWith('OFPST'));
}

/** An empty OVS database for the installed schema, created once per base dir and copied per node. */
async function emptyDb(baseDir: string): Promise<string> {
  const st = await stat(OVS_SCHEMA);
  const cacheDir = join(baseDir, '.cache');
  const file = join(cacheDir, `vswitch-${st.size}-${Math.floor(st.mtimeMs)}.db`);
  try {
    await stat(file);
    return file;
  } catch {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await run('ovsdb-tool', ['create', tmp, OVS_SCHEMA]);
    await rename(tmp, file);
    return file;
  }
}

/** Create the database and start ovsdb-server (detached) inside netns; returns its pid. */
export async function startOvsdb(netns: string, rundir: string): Promise<number> {
  await mkdir(rundir, { recursive: true });
  const db = join(rundir, 'conf.db');
  await rm(db, { force: true });
  await copyFile(await emptyDb(dirname(dirname(rundir))), db);
  await run(
    'ovsdb-server',
    [db, `--remote=punix:${join(rundir, 'db.sock')}`, `--unixctl=${join(rundir, 'ovsdb-server.ctl')}`, `--pidfile=${join(rundir, 'ovsdb-server.pid')}`,
      '--detach', '--no-chdir', `--log-file=${join(rundir, 'ovsdb-server.log')}`],
    { netns, env: ovsEnv(rundir), timeoutMs: 20_000 },
  );
  return await readPid(join(rundir, 'ovsdb-server.pid'));
}

/** Start ovs-vswitchd (detached) inside netns against the rundir's database; returns its pid. */
export async function startVswitchd(netns: string, rundir: string): Promise<number> {
  await rm(join(rundir, 'ovs-vswitchd.pid'), { force: true });
  await run(
    'ovs-vswitchd',
    [`unix:${join(rundir, 'db.sock')}`, `--unixctl=${join(rundir, 'ovs-vswitchd.ctl')}`, `--pidfile=${join(rundir, 'ovs-vswitchd.pid')}`,
      '--detach', '--no-chdir', `--log-file=${join(rundir, 'ovs-vswitchd.log')}`],
    { netns, env: ovsEnv(rundir), timeoutMs: 30_000 },
  );
  return await readPid(join(rundir, 'ovs-vswitchd.pid'));
}

export async function readPid(file: string, waitMs = 5000): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const n = Number((await readFile(file, 'utf8')).trim());
      if (Number.isInteger(n) && n > 1) return n;
    } catch {
      /* not written yet */
    }
    if (Date.now() > deadline) throw new StethError('ETOOL', `no pid in ${file}`);
    await sleep(10);
  }
}

/** Alive and not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** True when /proc/PID/cmdline mentions `marker` (the lab dir): never signal a recycled pid. */
export function pidIsOurs(pid: number, marker: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.includes(marker));
  } catch {
    return false;
  }
}

/** SIGTERM every pid that is ours, wait up to graceMs, then SIGKILL the rest. */
export async function stopPids(pids: readonly number[], marker: string, graceMs = 1500): Promise<void> {
  const mine = [...new Set(pids)].filter((p) => pidIsOurs(p, marker) && pidAlive(p));
  for (const p of mine) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + graceMs;
  let left = mine.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(10);
    left = left.filter(pidAlive);
  }
  for (const p of left) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const killDeadline = Date.now() + 2000;
  while (left.some(pidAlive) && Date.now() < killDeadline) await sleep(10);
}

/** Spawn a long-running process (argv, detached, output to logFile) inside netns; returns its pid. */
export function spawnDaemon(netns: string, cmd: string, args: readonly string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', assertNetnsName(netns), cmd, ...args], { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new StethError('ETOOL', `could not start ${cmd} in ${netns}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Poll a TCP port until it accepts (no fixed sleeps); false at the deadline. */
export async function waitTcp(host: string, port: number, timeoutMs: number, alive?: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      const done = (v: boolean): void => {
        s.destroy();
        resolve(v);
      };
      s.setTimeout(500, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    });
    if (ok) return true;
    if (alive && !alive()) return false;
    await sleep(25);
  }
  return false;
}

/** Names of the network namespaces that exist now. */
export async function listNetns(): Promise<Set<string>> {
  const r = await run('ip', ['netns', 'list'], { allowFail: true });
  return new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((s) => s.length > 0));
}

export async function linkExists(name: string, netns?: string): Promise<boolean> {
  const args = netns === undefined ? ['link', 'show', 'dev', name] : ['-n', netns, 'link', 'show', 'dev', name];
  const r = await run('ip', args, { allowFail: true });
  return r.code === 0;
}
