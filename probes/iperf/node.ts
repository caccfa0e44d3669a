/**
 * Agent side of the iperf probe.
 *
 * Servers: one iperf3 process per test (`-s -1 -J -p PORT -B ADDR`), on a port the
 * agent picks (the caller's preferred one first; another when it is taken), held
 * by a ledger lease whose undo kills exactly that PID (checked by /proc start
 * time), so a CLI that dies never leaves a server behind past the TTL. The method
 * returns once the listening socket is seen in /proc/net/{tcp,udp} — no sleeps.
 * A one-off server exits by itself after its test; its lease is then released.
 *
 * Clients: iperf3 -J with every parameter passed on the command line; output
 * parsed defensively (parse.ts). iperf2 (-y C) is used only where iperf3 is absent.
 *
 * Compat: the original setup_iperf_server / teardown_iperf_server /
 * start_iperf_client in the {code, message, data} envelope — now honouring their
 * protocol, port, timeout, parallel and bandwidth arguments.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import os from 'node:os';
import { z } from 'zod';
import { implement, type AgentContext, type LedgerApi, type MethodImpl } from '../../src/rpc/method.js';
import { compatMethod } from '../../src/rpc/compat.js';
import { run } from '../../src/host/exec.js';
import { StethError } from '../../src/errors.js';
import { client, serverStart, serverStop, tools, PORT_RANGE, type ClientParams, type IperfResult, type IperfTool, type Protocol } from './contract.js';
import { parseIperf2, parseIperf3 } from './parse.js';
import { formatBandwidth, formatBytes } from './units.js';

/* ------------------------------------------------------------------ tools */

const BIN: Record<IperfTool, string> = { iperf3: 'iperf3', iperf2: 'iperf' };
const versionCache = new Map<string, string | null>();

/** Absolute path of an executable on PATH, or undefined. */
export function which(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function versionOf(t: IperfTool, path: string): Promise<string | null> {
  const key = `${t}:${path}`;
  if (versionCache.has(key)) return versionCache.get(key)!;
  let v: string | null = null;
  try {
    const r = await run(BIN[t], t === 'iperf3' ? ['--version'] : ['-v'], { allowFail: true, timeoutMs: 5000 });
    const m = /iperf (?:version )?(\d+\.\d+(?:\.\d+)?)/.exec(`${r.stdout}\n${r.stderr}`);
    v = m ? `iperf ${m[1]}` : null;
  } catch {
    v = null;
  }
  versionCache.set(key, v);
  return v;
}

/** Which tool to use: iperf3, else iperf2; `want` restricts. Throws ETOOL naming the package. */
export async function pickTool(want?: IperfTool): Promise<{ tool: IperfTool; path: string; version: string | null }> {
  const order: IperfTool[] = want ? [want] : ['iperf3', 'iperf2'];
  for (const t of order) {
    const path = which(BIN[t]);
    if (path) return { tool: t, path, version: await versionOf(t, path) };
  }
  if (want === 'iperf2') throw new StethError('ETOOL', 'iperf (iperf2) is not installed on this node', { hint: 'install the iperf package (or iperf3)' });
  throw new StethError('ETOOL', 'iperf3 is not installed on this node', { hint: 'install the iperf3 package (Debian/Ubuntu/RHEL: iperf3); iperf (iperf2) also works as a fallback' });
}

/* ------------------------------------------------------------------ /proc helpers */

/** /proc/PID/stat start time (field 22), or undefined when gone. */
export async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** /proc/net hex form of an IPv4 address in both byte orders (the kernel prints host order). */
function hexAddrs(ip: string): string[] {
  const b = ip.split('.').map(Number);
  const be = b.map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  const le = [...b].reverse().map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  return os.endianness() === 'LE' ? [le, be] : [be, le];
}

/** Sockets in LISTEN (tcp) or unconnected (udp) state on this port, per /proc/net of our namespace. */
export async function listeningPorts(proto: 'tcp' | 'udp', v4only = false): Promise<Array<{ addr: string; port: number; inode: string }>> {
  const out: Array<{ addr: string; port: number; inode: string }> = [];
  const files = proto === 'tcp' ? ['/proc/net/tcp', '/proc/net/tcp6'] : ['/proc/net/udp', '/proc/net/udp6'];
  for (const file of v4only ? files.slice(0, 1) : files) {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [addr, portHex] = f[1]!.split(':');
      const st = f[3];
      if ((proto === 'tcp' && st !== '0A') || (proto === 'udp' && st !== '07')) continue;
      out.push({ addr: addr!, port: parseInt(portHex!, 16), inode: f[9]! });
    }
  }
  return out;
}

/** Listening sockets on this port (our address or a wildcard). */
async function listenersOn(proto: 'tcp' | 'udp', bind: string | undefined, port: number): Promise<string[]> {
  const want = bind ? new Set(hexAddrs(bind)) : undefined;
  return (await listeningPorts(proto, bind !== undefined))
    .filter((s) => s.port === port && (!want || want.has(s.addr) || /^0+$/.test(s.addr)))
    .map((s) => s.inode);
}

async function isListening(proto: 'tcp' | 'udp', bind: string | undefined, port: number): Promise<boolean> {
  return (await listenersOn(proto, bind, port)).length > 0;
}

/** Does this process hold one of these socket inodes (so the listener is ours, not another program's)? */
async function ownsSocket(pid: number, inodes: string[]): Promise<boolean> {
  if (inodes.length === 0) return false;
  const want = new Set(inodes.map((i) => `socket:[${i}]`));
  try {
    const fds = await readdir(`/proc/${pid}/fd`);
    for (const fd of fds) {
      try {
        if (want.has(await readlink(`/proc/${pid}/fd/${fd}`))) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return false;
  }
  return false;
}

/* ------------------------------------------------------------------ servers */

interface ServerRec {
  id: string;
  pid: number;
  port: number;
  tool: IperfTool;
  protocol: Protocol;
  bind: string | undefined;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  exited: Promise<void>;
  done: boolean;
  /** we killed it (lease released / expired) rather than it ending its one test */
  killed: boolean;
  ledger: LedgerApi;
}

const MAX_OUTPUT = 8 * 1024 * 1024;
const servers = new Map<string, ServerRec>();

export interface StartOptions {
  bind?: string;
  protocol: Protocol;
  port?: number;
  ttlMs: number;
  oneOff: boolean;
  tool?: IperfTool;
  label?: string;
  window?: number;
  /** only the requested port, no other (compat) */
  strictPort?: boolean;
}

export interface Started {
  id: string;
  port: number;
  pid: number;
  tool: IperfTool;
  version: string | null;
  bind: string;
  busyPorts: number[];
  readyMs: number;
  timingsMs: Record<string, number>;
}

function candidatePorts(preferred: number | undefined, taken: Set<number>): number[] {
  const out: number[] = [];
  if (preferred !== undefined) out.push(preferred);
  const span = PORT_RANGE.high - PORT_RANGE.low + 1;
  const startAt = Math.floor(Math.random() * span);
  for (let i = 0; i < span && out.length < 12; i++) {
    const p = PORT_RANGE.low + ((startAt + i) % span);
    if (!taken.has(p) && p !== preferred) out.push(p);
  }
  return out;
}

function spawnServer(path: string, argv: string[]): ChildProcess {
  return spawn(path, argv, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
}

/** Start a server; resolves once it listens. */
export async function startServer(opts: StartOptions, ctx: AgentContext): Promise<Started> {
  const t0 = performance.now();
  const mark: Record<string, number> = {};
  const lap = (k: string): void => {
    mark[k] = Math.round((performance.now() - t0) * 100) / 100;
  };
  const { tool: t, path, version } = await pickTool(opts.tool);
  lap('tool');
  const sockProto: 'tcp' | 'udp' = t === 'iperf2' && opts.protocol === 'udp' ? 'udp' : 'tcp';
  // ports our own servers hold; anything else in use is found by iperf's own bind error (then the next port)
  const taken = new Set([...servers.values()].filter((s) => !s.done).map((s) => s.port));
  if (opts.port !== undefined && !opts.strictPort && (await isListening(sockProto, undefined, opts.port))) taken.add(opts.port);
  const ports = opts.strictPort && opts.port !== undefined ? [opts.port] : candidatePorts(opts.port, taken);
  const busyPorts: number[] = [];
  for (const port of ports) {
    if (ctx.signal.aborted) throw new StethError('ECANCELED', 'cancelled');
    if (taken.has(port) && !opts.strictPort) {
      busyPorts.push(port);
      continue;
    }
    const argv =
      t === 'iperf3'
        ? ['-s', '-p', String(port), '-J', ...(opts.oneOff ? ['-1'] : []), ...(opts.bind ? ['-B', opts.bind] : []), ...(opts.window ? ['-w', String(opts.window)] : [])]
        : ['-s', '-p', String(port), '-y', 'C', ...(opts.protocol === 'udp' ? ['-u'] : []), ...(opts.bind ? ['-B', opts.bind] : []), ...(opts.window ? ['-w', String(opts.window)] : [])];
    const child = spawnServer(path, argv);
    lap('spawn');
    const rec: ServerRec = {
      id: '',
      pid: child.pid ?? -1,
      port,
      tool: t,
      protocol: opts.protocol,
      bind: opts.bind,
      child,
      stdout: '',
      stderr: '',
      exitCode: null,
      exited: Promise.resolve(),
      done: false,
      killed: false,
      ledger: ctx.ledger,
    };
    rec.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        rec.exitCode = code ?? (sig ? 128 : null);
        rec.done = true;
        resolve();
      });
      child.once('error', (e) => {
        rec.stderr += String((e as Error).message);
        rec.exitCode = -1;
        rec.done = true;
        resolve();
      });
    });
    child.stdout!.on('data', (d: Buffer) => {
      if (rec.stdout.length < MAX_OUTPUT) rec.stdout += d.toString('utf8');
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (rec.stderr.length < 64 * 1024) rec.stderr += d.toString('utf8');
    });
    if (child.pid === undefined) {
      await rec.exited;
      throw new StethError('ETOOL', `could not start ${BIN[t]}: ${rec.stderr || 'spawn failed'}`);
    }
    // the lease first: whatever happens next, this PID is accounted for
    const startTime = await startTimeOf(child.pid);
    const undo = startTime === undefined ? ({ type: 'kill', pid: child.pid, comm: BIN[t] } as const) : ({ type: 'kill', pid: child.pid, startTime, comm: BIN[t] } as const);
    const leaseId = ctx.ledger.acquire(
      'iperf-server',
      undo,
      opts.ttlMs,
      async () => {
        if (!rec.done) {
          rec.killed = true;
          child.kill('SIGTERM');
          const t2 = setTimeout(() => child.kill('SIGKILL'), 2000);
          await rec.exited;
          clearTimeout(t2);
        }
      },
      opts.label ?? `${BIN[t]} -s ${opts.bind ?? '*'}:${port}`,
    );
    rec.id = leaseId;
    servers.set(leaseId, rec);
    lap('lease');
    // wait for the listening socket, or an early exit (port taken, address not local)
    const deadline = Date.now() + 5000;
    let ready = false;
    let delay = 1;
    while (!rec.done && Date.now() < deadline) {
      const inodes = await listenersOn(sockProto, opts.bind, port);
      if (inodes.length && (await ownsSocket(child.pid, inodes))) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 20);
    }
    lap('listening');
    if (ready && !rec.done) {
      // a one-off server's lease ends with it
      void rec.exited.then(() => {
        if (ctx.ledger.has(leaseId)) void ctx.ledger.release(leaseId).catch(() => undefined);
        // keep its output for serverStop for a while
        setTimeout(() => servers.delete(leaseId), 5 * 60_000).unref();
      });
      return { id: leaseId, port, pid: child.pid, tool: t, version, bind: opts.bind ?? '0.0.0.0', busyPorts, readyMs: Math.round((performance.now() - t0) * 100) / 100, timingsMs: mark };
    }
    // failed: release the lease (kills it if still alive) and classify
    await ctx.ledger.release(leaseId).catch(() => undefined);
    servers.delete(leaseId);
    await rec.exited;
    const err = serverFailure(rec);
    if (err.code === 'EBUSY' && !opts.strictPort) {
      busyPorts.push(port);
      continue;
    }
    throw err;
  }
  throw new StethError('EBUSY', `no free port for an iperf server (tried ${busyPorts.join(', ')})`, { hint: `free a port in ${PORT_RANGE.low}-${PORT_RANGE.high}` });
}

function serverFailure(rec: ServerRec): StethError {
  if (rec.tool === 'iperf3') {
    const p = parseIperf3(rec.stdout, rec.stderr);
    if (p.error) {
      const e = p.error;
      if (e.code === 'ENOENT' && rec.bind) {
        return new StethError('ENOENT', `address ${rec.bind} is not on this node (${e.message})`, { hint: 'check the node\'s address for this network type in steth.conf' });
      }
      return e;
    }
    return new StethError('ETOOL', `iperf3 server did not start listening on port ${rec.port}`);
  }
  const text = `${rec.stderr} ${rec.stdout}`;
  if (/Address already in use/i.test(text)) return new StethError('EBUSY', `port ${rec.port} is in use`);
  if (/Cannot assign requested address/i.test(text)) return new StethError('ENOENT', `address ${rec.bind} is not on this node`);
  return new StethError('ETOOL', `iperf server did not start: ${text.trim().slice(0, 300) || 'no output'}`);
}

export interface Stopped {
  id: string;
  stopped: boolean;
  exitedByItself: boolean;
  exitCode: number | null;
  result: IperfResult | null;
  error: string | null;
  raw?: string;
}

export async function stopServer(id: string, waitMs: number, ctx: AgentContext): Promise<Stopped> {
  const rec = servers.get(id);
  if (!rec) {
    if (ctx.ledger.has(id)) await ctx.ledger.release(id);
    return { id, stopped: false, exitedByItself: false, exitCode: null, result: null, error: 'no such server (already stopped, expired, or never started here)' };
  }
  if (!rec.done && waitMs > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([rec.exited, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }
  const byItself = rec.done && !rec.killed;
  // killed before this call: its lease expired (or the agent released it)
  const expired = rec.done && rec.killed && !ctx.ledger.has(id);
  if (ctx.ledger.has(id)) await ctx.ledger.release(id);
  await rec.exited;
  servers.delete(id);
  let result: IperfResult | null = null;
  let error: string | null = null;
  if (rec.tool === 'iperf3') {
    const p = parseIperf3(rec.stdout, rec.stderr);
    result = p.result;
    error = p.result ? p.result.error : rec.stdout.trim() || rec.stderr.trim() ? (p.error?.message ?? null) : null;
  }
  if (expired) error = 'the server was already stopped: its lease expired';
  const out: Stopped = { id, stopped: !expired, exitedByItself: byItself, exitCode: rec.exitCode, result, error };
  if (rec.tool === 'iperf2') out.raw = rec.stdout.slice(0, 1 << 20);
  return out;
}

/** Servers this process runs (diagnostics, tests). */
export function activeServers(): Array<{ id: string; pid: number; port: number; tool: IperfTool }> {
  return [...servers.values()].filter((s) => !s.done).map((s) => ({ id: s.id, pid: s.pid, port: s.port, tool: s.tool }));
}

/* ------------------------------------------------------------------ clients */

export function clientArgv(t: IperfTool, p: ClientParams): string[] {
  const a: string[] = ['-c', p.server, '-p', String(p.port), '-t', String(p.durationS), '-P', String(p.parallel)];
  if (p.bind) a.push('-B', p.bind);
  if (p.protocol === 'udp') a.push('-u');
  if (p.bandwidth !== undefined) a.push('-b', String(p.bandwidth));
  if (p.reverse) a.push('-R');
  if (p.bidir) a.push(t === 'iperf3' ? '--bidir' : '-d');
  if (p.window !== undefined) a.push('-w', String(p.window));
  if (p.mss !== undefined) a.push('-M', String(p.mss));
  if (t === 'iperf3') a.push('-J', '--connect-timeout', '10000');
  else a.push('-y', 'C');
  return a;
}

export type ClientOutcome = IperfResult & { argv: string[]; elapsedMs: number; raw?: string };

export async function runClient(p: ClientParams, ctx: AgentContext): Promise<ClientOutcome> {
  const { tool: t, version } = await pickTool(p.tool);
  const argv = clientArgv(t, p);
  const t0 = performance.now();
  const r = await run(BIN[t], argv, { allowFail: true, timeoutMs: (p.durationS + 10) * 1000, signal: ctx.signal });
  const elapsedMs = Math.round(performance.now() - t0);
  const parsed =
    t === 'iperf3'
      ? parseIperf3(r.stdout, r.stderr)
      : parseIperf2(r.stdout + (r.stdout.trim() ? '' : r.stderr), { protocol: p.protocol, serverPort: p.port, reverse: p.reverse, bidir: p.bidir, version });
  if (!parsed.result) throw parsed.error ?? new StethError('ETOOL', `${BIN[t]} printed no report`);
  const out: ClientOutcome = { ...parsed.result, argv: [BIN[t], ...argv], elapsedMs };
  if (t === 'iperf2') out.raw = r.stdout.slice(0, 1 << 20);
  return out;
}

/* ------------------------------------------------------------------ methods */

export const methods: MethodImpl[] = [
  implement(serverStart, async (p, ctx) =>
    startServer(
      {
        bind: p.bind,
        protocol: p.protocol,
        ...(p.port !== undefined ? { port: p.port } : {}),
        ttlMs: p.ttlMs,
        oneOff: p.oneOff,
        ...(p.tool ? { tool: p.tool } : {}),
        ...(p.label ? { label: p.label } : {}),
      },
      ctx,
    ),
  ),
  implement(serverStop, async (p, ctx) => stopServer(p.id, p.waitMs, ctx)),
  implement(client, async (p, ctx) => runClient(p, ctx)),
  implement(tools, async () => {
    const out: { iperf3: string | null; iperf2: string | null } = { iperf3: null, iperf2: null };
    for (const t of ['iperf3', 'iperf2'] as const) {
      const path = which(BIN[t]);
      if (path) out[t] = (await versionOf(t, path)) ?? 'unknown version';
    }
    return out;
  }),

  /* the original agent API (steth/agent/api.py), arguments now honoured */
  compatMethod(
    'setup_iperf_server',
    ['protocol', 'port', 'window'],
    z
      .object({
        protocol: z.string().regex(/^(tcp|udp)$/i).default('TCP'),
        port: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1024).max(65535)).default(5001),
        window: z.union([z.number().int().min(1024), z.string().regex(/^\d+[KkMm]?$/), z.null()]).optional(),
      })
      .strict(),
    async (p, ctx) => {
      const window = typeof p.window === 'string' ? Number(p.window.replace(/[KkMm]$/, '')) * (/[Kk]$/.test(p.window) ? 1024 : /[Mm]$/.test(p.window) ? 1048576 : 1) : (p.window ?? undefined);
      const s = await startServer(
        { protocol: p.protocol.toLowerCase() as Protocol, port: p.port, strictPort: true, ttlMs: 10 * 60_000, oneOff: false, label: 'setup_iperf_server (compat)', ...(window ? { window } : {}) },
        ctx,
      );
      return { message: `${s.tool} server listening on port ${s.port}`, data: { pid: s.pid, port: s.port, tool: s.tool, lease: s.id } };
    },
  ),
  compatMethod(
    'teardown_iperf_server',
    ['pid'],
    z.object({ pid: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]) }).strict(),
    async (p, ctx) => {
      const rec = [...servers.values()].find((s) => s.pid === p.pid && !s.done);
      if (!rec) throw new StethError('ENOENT', `no iperf server with pid ${p.pid} was started by this agent`);
      const r = await stopServer(rec.id, 0, ctx);
      return { message: `iperf server ${p.pid} stopped`, data: { pid: p.pid, exit_code: r.exitCode } };
    },
  ),
  compatMethod(
    'start_iperf_client',
    ['host', 'protocol', 'timeout', 'parallel', 'bandwidth', 'port'],
    z
      .object({
        host: z.string(),
        protocol: z.string().regex(/^(tcp|udp)$/i).default('TCP'),
        timeout: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1).max(3600)).default(5),
        parallel: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number), z.null()]).pipe(z.number().int().min(1).max(128).nullable()).optional(),
        /** Mbit/s, as the original ('%sM' % bandwidth) */
        bandwidth: z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?$/).transform(Number), z.null()]).optional(),
        port: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1).max(65535)).default(5001),
      })
      .strict(),
    async (p, ctx) => {
      const params = clientParamsFrom({
        server: p.host,
        port: p.port,
        protocol: p.protocol.toLowerCase() as Protocol,
        durationS: p.timeout,
        parallel: p.parallel ?? 1,
        ...(p.bandwidth ? { bandwidth: Math.round(p.bandwidth * 1e6) } : {}),
      });
      const r = await runClient(params, ctx);
      const f = r.flows[0]!;
      return {
        message: r.error ?? '',
        data: {
          Bandwidth: formatBandwidth(f.receivedBps),
          Transfer: formatBytes(f.receivedBytes),
          Interval: `0.0-${r.durationS.toFixed(1)} sec`,
          server_ip: p.host,
          ...(r.protocol === 'udp' ? { Jitter: `${(f.jitterMs ?? 0).toFixed(3)} ms`, Lost: `${f.lostPackets ?? 0}/${f.packets ?? 0} (${(f.lostPercent ?? 0).toFixed(2)}%)` } : {}),
          result: r,
        },
      };
    },
  ),
];

function clientParamsFrom(p: Partial<ClientParams> & { server: string; port: number }): ClientParams {
  const parsed = client.params.safeParse(p);
  if (!parsed.success) throw new StethError('EINVAL', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data as ClientParams;
}
