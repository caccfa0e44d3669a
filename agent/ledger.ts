/**
 * The ledger: every host change the agent makes is a lease with a TTL, written
 * to a state file before the handler returns, so it is undone
 *  - when the CLI releases it (teardown, end of a check),
 *  - when the lease expires (the CLI died mid-command),
 *  - when the agent starts again after a crash (kill -9, OOM, reboot of the agent).
 * In-process leases (a running capture: undo 'none' plus a close callback) expire and
 * are released the same way but live in memory only: nothing of them outlives us.
 * Undo actions are serialisable (UndoAction) and conservative: a PID is killed
 * only if its /proc start time still matches (no PID-reuse accidents); a link
 * delete / address delete that finds nothing to do is fine.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LedgerApi, UndoAction } from '../src/rpc/method.js';
import { run } from '../src/host/exec.js';
import { StethError } from '../src/errors.js';
import { assertIfName, parseCidr } from '../src/validate.js';

export interface Lease {
  id: string;
  kind: string;
  label?: string;
  undo: UndoAction;
  createdAt: number;
  expiresAt: number;
  /** agent PID that took it (diagnostics) */
  agentPid: number;
}

interface StateFile {
  version: 1;
  leases: Lease[];
}

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface LedgerOptions {
  stateDir: string;
  log?: LogFn;
  /** how often expiry is checked (ms), default 1000 */
  sweepMs?: number;
  /** clock (tests) */
  now?: () => number;
}

export interface UndoReport {
  id: string;
  kind: string;
  undo: UndoAction;
  ok: boolean;
  error?: string;
}

export class Ledger implements LedgerApi {
  readonly file: string;
  readonly #leases = new Map<string, Lease>();
  readonly #inProcess = new Map<string, () => void | Promise<void>>();
  readonly #releasing = new Map<string, Promise<void>>();
  readonly #log: LogFn;
  readonly #now: () => number;
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: LedgerOptions) {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.file = join(opts.stateDir, 'ledger.json');
    this.#log = opts.log ?? (() => undefined);
    this.#now = opts.now ?? Date.now;
    this.#sweepMs = opts.sweepMs ?? 1000;
  }

  /** Undo whatever a previous run left in the state file; returns what was undone. */
  async recover(): Promise<UndoReport[]> {
    let stale: Lease[] = [];
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<StateFile>;
      if (Array.isArray(parsed.leases)) stale = parsed.leases.filter(isLease);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.#log('warn', 'ledger state file unreadable; starting empty', { file: this.file, error: String(e) });
    }
    const reports: UndoReport[] = [];
    // newest first: a VLAN subinterface's address goes before the subinterface
    for (const lease of stale.sort((a, b) => b.createdAt - a.createdAt)) {
      const r = await this.#undo(lease);
      reports.push(r);
      this.#log(r.ok ? 'info' : 'warn', 'undid a lease left by a previous run', { lease: lease.id, kind: lease.kind, undo: lease.undo.type, ok: r.ok, ...(r.error ? { error: r.error } : {}) });
    }
    this.#persist();
    return reports;
  }

  /** Start the expiry sweep. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.#sweepMs);
    this.#timer.unref();
  }

  /** Undo every lease whose TTL passed. */
  async sweep(): Promise<UndoReport[]> {
    const now = this.#now();
    const due = [...this.#leases.values()].filter((l) => l.expiresAt <= now && !this.#releasing.has(l.id));
    const out: UndoReport[] = [];
    for (const l of due) {
      this.#log('info', 'lease expired; undoing', { lease: l.id, kind: l.kind, label: l.label });
      out.push(await this.#releaseOne(l.id));
    }
    return out;
  }

  acquire(kind: string, undo: UndoAction, ttlMs: number, inProcess?: () => void | Promise<void>, label?: string): string {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StethError('EINVAL', `lease TTL must be positive (got ${ttlMs})`);
    validateUndo(undo);
    const id = `${kind}-${randomBytes(6).toString('hex')}`;
    const now = this.#now();
    const lease: Lease = { id, kind, undo, createdAt: now, expiresAt: now + ttlMs, agentPid: process.pid };
    if (label !== undefined) lease.label = label;
    this.#leases.set(id, lease);
    if (inProcess) this.#inProcess.set(id, inProcess);
    if (survivesUs(lease)) this.#persist();
    return id;
  }

  async release(leaseId: string): Promise<void> {
    const r = await this.#releaseOne(leaseId);
    if (!r.ok && r.error !== 'unknown lease') throw new StethError('ETOOL', `could not undo lease ${leaseId}: ${r.error}`);
  }

  renew(leaseId: string, ttlMs: number): void {
    const l = this.#leases.get(leaseId);
    if (!l) throw new StethError('ENOENT', `no lease ${leaseId}`, { hint: 'it expired or was released' });
    // memory only: recover() undoes every lease a dead run left, whatever its expiry
    l.expiresAt = this.#now() + ttlMs;
  }

  has(leaseId: string): boolean {
    return this.#leases.has(leaseId);
  }

  get(leaseId: string): Lease | undefined {
    const l = this.#leases.get(leaseId);
    return l === undefined ? undefined : { ...l };
  }

  list(): Lease[] {
    return [...this.#leases.values()].filter((l) => !this.#releasing.has(l.id)).map((l) => ({ ...l }));
  }

  /** Release every lease (agent shutdown). */
  async releaseAll(): Promise<UndoReport[]> {
    const ids = [...this.#leases.values()].sort((a, b) => b.createdAt - a.createdAt).map((l) => l.id);
    const out: UndoReport[] = [];
    for (const id of ids) out.push(await this.#releaseOne(id));
    return out;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #releaseOne(id: string): Promise<UndoReport> {
    const pending = this.#releasing.get(id);
    const lease = this.#leases.get(id);
    if (!lease) {
      if (pending) return pending.then(() => ({ id, kind: '?', undo: { type: 'none' }, ok: true }));
      return Promise.resolve({ id, kind: '?', undo: { type: 'none' }, ok: false, error: 'unknown lease' });
    }
    let report!: UndoReport;
    const p = (async () => {
      const fn = this.#inProcess.get(id);
      let inProcErr: string | undefined;
      if (fn) {
        try {
          await fn();
        } catch (e) {
          inProcErr = e instanceof Error ? e.message : String(e);
        }
      }
      report = await this.#undo(lease);
      if (inProcErr !== undefined) report = { ...report, ok: false, error: inProcErr };
      this.#leases.delete(id);
      this.#inProcess.delete(id);
      if (survivesUs(lease)) this.#persist();
    })();
    this.#releasing.set(id, p);
    return p.then(
      () => {
        this.#releasing.delete(id);
        return report;
      },
      (e: unknown) => {
        this.#releasing.delete(id);
        return { id, kind: lease.kind, undo: lease.undo, ok: false, error: String(e) };
      },
    );
  }

  async #undo(lease: Lease): Promise<UndoReport> {
    const base = { id: lease.id, kind: lease.kind, undo: lease.undo };
    try {
      await undoAction(lease.undo);
      return { ...base, ok: true };
    } catch (e) {
      return { ...base, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }

  /** The state file: every lease a restart must undo, written and fsynced before return. */
  #persist(): void {
    const state: StateFile = { version: 1, leases: [...this.#leases.values()].filter(survivesUs) };
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

/**
 * Does the change outlive this process? An in-process lease (undo 'none': a capture,
 * whose socket dies with us) has nothing for a restart to undo, so it stays out of the
 * state file: writing it cost a synchronous write + fsync (~8 ms here) on every capture
 * start, renewal and stop, on the loop that serves the check.
 */
function survivesUs(l: Lease): boolean {
  return l.undo.type !== 'none';
}

function isLease(x: unknown): x is Lease {
  if (typeof x !== 'object' || x === null) return false;
  const l = x as Partial<Lease>;
  return typeof l.id === 'string' && typeof l.kind === 'string' && typeof l.undo === 'object' && l.undo !== null && typeof l.createdAt === 'number';
}

/** Refuse an undo action that names something we could not safely act on. */
export function validateUndo(u: UndoAction): void {
  switch (u.type) {
    case 'kill':
      if (!Number.isInteger(u.pid) || u.pid <= 1 || u.pid === process.pid) throw new StethError('EINVAL', `refusing a kill lease on PID ${u.pid}`);
      return;
    case 'link-del':
    case 'link-set':
      assertIfName(u.iface);
      return;
    case 'addr-del':
      assertIfName(u.iface);
      parseCidr(u.cidr);
      return;
    case 'none':
      return;
    default:
      throw new StethError('EINVAL', `unknown undo action ${(u as { type: string }).type}`);
  }
}

/** /proc/PID/stat field 22 (start time in clock ticks since boot), or undefined if gone. */
export async function procStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parens: split after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall = index 19 after pid, comm
  } catch {
    return undefined;
  }
}

const isGone = (stderr: string): boolean => /Cannot find device|does not exist|No such device|Cannot assign requested address|not found/i.test(stderr);

/** Perform one undo action. Idempotent: a thing already gone is success. */
export async function undoAction(u: UndoAction): Promise<void> {
  const netns = 'netns' in u && u.netns !== undefined ? { netns: u.netns } : {};
  switch (u.type) {
    case 'none':
      return;
    case 'kill': {
      const now = await procStartTime(u.pid);
      if (now === undefined) return; // already gone
      if (u.startTime !== undefined && now !== u.startTime) return; // PID reused by something else: leave it
      try {
        process.kill(u.pid, 'SIGTERM');
      } catch {
        return;
      }
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const st = await procStartTime(u.pid);
        if (st === undefined || st !== now) return;
        if (await isZombie(u.pid)) return;
      }
      try {
        process.kill(u.pid, 'SIGKILL');
      } catch {
        // gone
      }
      return;
    }
    case 'link-del': {
      const r = await run('ip', ['link', 'del', 'dev', u.iface], { ...netns, allowFail: true });
      if (r.code !== 0 && !isGone(r.stderr)) throw new StethError('ETOOL', `ip link del ${u.iface}: ${r.stderr.trim()}`);
      return;
    }
    case 'addr-del': {
      const r = await run('ip', ['addr', 'del', u.cidr, 'dev', u.iface], { ...netns, allowFail: true });
      if (r.code !== 0 && !isGone(r.stderr)) throw new StethError('ETOOL', `ip addr del ${u.cidr} dev ${u.iface}: ${r.stderr.trim()}`);
      return;
    }
    case 'link-set': {
      const r = await run('ip', ['link', 'set', 'dev', u.iface, u.state], { ...netns, allowFail: true });
      if (r.code !== 0 && !isGone(r.stderr)) throw new StethError('ETOOL', `ip link set ${u.iface} ${u.state}: ${r.stderr.trim()}`);
      return;
    }
  }
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
