/**
 * Processes of the OpenStack lab: started with an argv inside one of the lab's
 * namespaces, recorded by PID, stopped by PID (SIGTERM, SIGKILL after a grace
 * period: agents and neutron-server can hang). A PID is only ever signalled
 * when /proc says it lives in a network namespace this lab created, so a
 * recycled PID of someone else is never touched.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StethError } from '../../errors.js';
import { assertNetnsName } from '../../validate.js';

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Inode of a named namespace (/run/netns/NAME), undefined when it does not exist. */
export function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${assertNetnsName(name)}`).ino;
  } catch {
    return undefined;
  }
}

/** The network-namespace inode a PID lives in (undefined when gone). */
export function pidNetnsInode(pid: number): number | undefined {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (the emulated lab's check, one definition). */
import { pidAlive as alive } from '../host.js';
export { alive };

/** Every PID living in one of these namespaces (by inode). */
export function pidsInNamespaces(inodes: ReadonlySet<number>): number[] {
  if (inodes.size === 0) return [];
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const ino = pidNetnsInode(pid);
    if (ino !== undefined && inodes.has(ino)) out.push(pid);
  }
  return out;
}

/** PIDs whose command line names `marker` (the lab dir): the lab's daemons wherever they run. */
export function pidsWithMarker(marker: string): number[] {
  const out: number[] = [];
  if (marker.length < 8) return out;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').some((a) => a.includes(marker))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Start a long-running process inside `netns` (argv, new session, output to
 * logFile, environment = a clean system PATH + env). Returns its PID (the
 * `ip netns exec` process execs into the command, so the PID is the command's).
 */
export function startIn(netns: string, cmd: string, args: readonly string[], logFile: string, env: Record<string, string> = {}, opts: { hostMounts?: boolean } = {}): number {
  const fd = openSync(logFile, 'a', 0o600);
  // `ip netns exec` gives the process a private mount namespace: namespaces it creates
  // itself (the DHCP agent's qdhcp-*) would be invisible to everyone else. nsenter --net
  // keeps the host's mount namespace so /run/netns/qdhcp-* is usable by the steth agents.
  const argv = opts.hostMounts
    ? ['nsenter', [`--net=/run/netns/${assertNetnsName(netns)}`, '--', cmd, ...args]] as const
    : ['ip', ['netns', 'exec', assertNetnsName(netns), cmd, ...args]] as const;
  try {
    const child = spawn(argv[0], argv[1], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', HOME: process.env.HOME ?? '/root', ...env },
    });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new StethError('ETOOL', `could not start ${cmd} in ${netns}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Stop PIDs that live in the given namespaces (or are in `marked`: their command
 * line names the lab dir): SIGTERM, wait up to graceMs,
 * SIGKILL what is left, wait for them to go. PIDs outside those namespaces are
 * left alone. Returns how many were signalled.
 */
export async function stopPids(pids: readonly number[], inodes: ReadonlySet<number>, graceMs = 10_000, marked: ReadonlySet<number> = new Set()): Promise<number> {
  const mine = [...new Set(pids)].filter((p) => Number.isInteger(p) && p > 1 && alive(p) && (inodes.has(pidNetnsInode(p) ?? -1) || marked.has(p)));
  const signal = (p: number, s: NodeJS.Signals): void => {
    try {
      process.kill(p, s);
    } catch {
      /* gone */
    }
  };
  for (const p of mine) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = mine.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(alive);
  }
  for (const p of left) signal(p, 'SIGKILL');
  const killDeadline = Date.now() + 3000;
  while (left.some(alive) && Date.now() < killDeadline) await sleep(20);
  return mine.length;
}

/** Poll `check` until it returns a value (not undefined) or the deadline; no fixed sleeps beyond the poll step. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, opts: { timeoutMs: number; stepMs?: number; hint?: string; alive?: () => boolean }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    if (opts.alive && !opts.alive()) {
      throw new StethError('ETOOL', `${what}: the process exited`, opts.hint ? { hint: opts.hint } : {});
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message.slice(0, 200)})` : '';
      throw new StethError('ETIMEDOUT', `${what} did not happen within ${Math.round(opts.timeoutMs / 1000)} s${why}`, opts.hint ? { hint: opts.hint } : {});
    }
    await sleep(opts.stepMs ?? 250);
  }
}
