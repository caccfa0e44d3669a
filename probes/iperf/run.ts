/**
 * What check-iperf runs (probes/iperf/check.ts declares it and loads this on use):
 * option validation, one test per pair and type, the matrix, the result model.
 */
import { RpcError } from '../../src/rpc/errors.js';
import type { AgentEntry, Config, NetworkTypeName } from '../../src/config/types.js';
import { NETWORK_TYPE_NAMES } from '../../src/config/types.js';
import type { AgentClient } from '../../src/rpc/client.js';
import { StethError } from '../../src/errors.js';
import { describeError, type ErrorInfo } from '../../src/cli/errors.js';
import { EXIT, fieldTable, type CheckResult, type Table, type Cell } from '../../src/report/model.js';
import { client as clientSpec, serverStart, serverStop, type IperfResult, type Protocol } from './contract.js';
import { parseIperf2 } from './parse.js';
import { jobKey, matrixJobs, runMatrix, type JobOutcome, type MatrixJob } from './schedule.js';
import { formatBandwidth, parseBandwidth, parseLegacyBandwidth, parseSize } from './units.js';
import { SERVER_TYPES } from './check.js';

/** What one test runs with (validated). */
export interface TestOptions {
  protocol: Protocol;
  durationS: number;
  parallel: number;
  bandwidth?: number;
  reverse: boolean;
  bidir: boolean;
  window?: number;
  mss?: number;
  /** preferred server port (the agent picks another when it is taken) */
  port?: number;
}

export interface PairResult {
  server: string;
  client: string;
  type: NetworkTypeName;
  serverAddress: string;
  clientAddress: string;
  port: number;
  result: IperfResult;
  /** the server's own report (iperf3), when it printed one */
  serverReport: IperfResult | null;
  /** ms spent around iperf: serverStart RPC, serverStop RPC, client RPC minus iperf's own run */
  overheadMs: { setup: number; teardown: number; client: number; serverSteps?: Record<string, number> };
  /** UDP: tests started before this one measured (the earlier ones hung in iperf3's UDP handshake) */
  attempts?: number;
}

/** The dependencies a run needs (a CliContext provides them; tests pass fakes). */
export interface IperfDeps {
  config(): Promise<Config>;
  client(name: string): AgentClient;
  signal: AbortSignal;
}

/* ------------------------------------------------------------------ validation */

export function parseTypes(text: string | undefined): NetworkTypeName[] {
  if (text === undefined || text === '') return [...NETWORK_TYPE_NAMES];
  const out: NetworkTypeName[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw === 'others' || raw === 'all') {
      out.push(...NETWORK_TYPE_NAMES);
      continue;
    }
    if (!(NETWORK_TYPE_NAMES as readonly string[]).includes(raw)) {
      throw new StethError('EINVAL', `unknown network type '${raw.replace(/[^\x20-\x7e]/g, '?').slice(0, 30)}'`, { hint: "choose from 'mgmt', 'net', 'storage' (or 'others' for all three)" });
    }
    out.push(raw as NetworkTypeName);
  }
  if (out.length === 0) throw new StethError('EINVAL', 'no network type given');
  return [...new Set(out)];
}

export function findAgentEntry(cfg: Config, name: string): AgentEntry {
  const hit = cfg.agents.find((a) => a.name === name) ?? cfg.agents.find((a) => a.name.toLowerCase() === name.toLowerCase());
  if (hit) return hit;
  throw new StethError('ENOENT', `no agent '${name.replace(/[^\x20-\x7e]/g, '?').slice(0, 60)}' in ${cfg.source ?? 'the configuration'}`, {
    hint: cfg.agents.length ? `agents: ${cfg.agents.map((a) => a.name).join(', ')}` : 'add [agent NAME] sections to steth.conf',
  });
}

/** The agent's address on a network type, or ECONFIG naming the agent, the type and the key to set. */
export function addressOn(a: AgentEntry, type: NetworkTypeName): string {
  const addr = a.addresses[type];
  if (!addr) {
    throw new StethError('ECONFIG', `agent ${a.name} has no address on the ${type} network`, { hint: `set ${type}_address in [agent ${a.name}] of steth.conf` });
  }
  return addr;
}

export interface RawTestOpts {
  protocol?: string;
  time?: string;
  parallel?: string;
  bandwidth?: string;
  reverse?: boolean;
  bidir?: boolean;
  window?: string;
  mss?: string;
  port?: string;
  /* the original's names */
  server_protocol?: string;
  client_protocol?: string;
  client_timeout?: string;
  client_parallel?: string;
  client_bandwidth?: string;
  server_port?: string;
  client_port?: string;
}

function intIn(text: string, what: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(text.trim())) throw new StethError('EINVAL', `${what} '${text}' is not a whole number`);
  const n = Number(text);
  if (n < lo || n > hi) throw new StethError('EINVAL', `${what} ${n} is out of range ${lo}..${hi}`);
  return n;
}

/** Merge new and original option names into TestOptions; every value validated. */
export function testOptions(o: RawTestOpts): TestOptions {
  const protoText = o.protocol ?? o.client_protocol ?? o.server_protocol ?? 'tcp';
  const protocol = protoText.toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw new StethError('EINVAL', `protocol '${protoText}' is not tcp or udp`);
  if (o.server_protocol && o.client_protocol && o.server_protocol.toLowerCase() !== o.client_protocol.toLowerCase()) {
    throw new StethError('EINVAL', `--server_protocol ${o.server_protocol} and --client_protocol ${o.client_protocol} differ`);
  }
  const t: TestOptions = {
    protocol,
    durationS: intIn(o.time ?? o.client_timeout ?? '5', 'duration', 1, 3600),
    parallel: intIn(o.parallel ?? o.client_parallel ?? '1', 'parallel streams', 1, 128),
    reverse: !!o.reverse,
    bidir: !!o.bidir,
  };
  if (o.bandwidth !== undefined) t.bandwidth = parseBandwidth(o.bandwidth, '--bandwidth');
  else if (o.client_bandwidth !== undefined) t.bandwidth = parseLegacyBandwidth(o.client_bandwidth);
  if (o.window !== undefined) t.window = parseSize(o.window, '--window');
  if (o.mss !== undefined) t.mss = intIn(o.mss, '--mss', 88, 65535);
  const port = o.port ?? o.server_port ?? o.client_port;
  if (port !== undefined) t.port = intIn(port, 'port', 1024, 65535);
  if (t.reverse && t.bidir) throw new StethError('EINVAL', '--reverse and --bidir are exclusive');
  if (t.mss !== undefined && t.protocol === 'udp') throw new StethError('EINVAL', '--mss applies to TCP only');
  if (t.window !== undefined && t.window < 1024) throw new StethError('EINVAL', '--window must be at least 1K');
  return t;
}

/* ------------------------------------------------------------------ one test */

const agentErr = (agent: string, what: string, e: unknown): unknown => {
  if (e instanceof StethError && e.code === 'EAGENT') return new StethError('EAGENT', `${agent}: ${what}: ${e.message}`, { hint: e.hint, detail: e.detail });
  return e;
};

/** UDP tests per pair before giving up on iperf3's handshake (see runPair). */
export const UDP_ATTEMPTS = 3;

/** The agent ended an iperf client that never finished (its deadline passed). */
function clientTimedOut(e: unknown): boolean {
  return e instanceof RpcError && e.data?.code === 'ETIMEDOUT';
}

/**
 * One test between a pair: a one-off server, the client, the server stopped. A UDP test
 * is started again, with a fresh server, when its client hung: iperf3 (3.12, Debian 12)
 * opens each UDP stream with one datagram and waits for the server's reply without ever
 * sending it again, so on a lossy path (the case a UDP test is run for) losing either one
 * leaves the client waiting until the agent ends it — ~20 % of tests at 10 % loss. Up to
 * UDP_ATTEMPTS tests; `attempts` says how many it took.
 */
export async function runPair(deps: IperfDeps, cfg: Config, job: MatrixJob<NetworkTypeName>, o: TestOptions, signal = deps.signal): Promise<PairResult> {
  const max = o.protocol === 'udp' ? UDP_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await runPairOnce(deps, cfg, job, o, signal);
      if (attempt > 1) r.attempts = attempt;
      return r;
    } catch (e) {
      if (attempt >= max || signal.aborted || !clientTimedOut(e)) throw e;
    }
  }
}

async function runPairOnce(deps: IperfDeps, cfg: Config, job: MatrixJob<NetworkTypeName>, o: TestOptions, signal: AbortSignal): Promise<PairResult> {
  const s = findAgentEntry(cfg, job.server);
  const c = findAgentEntry(cfg, job.client);
  const serverAddress = addressOn(s, job.type);
  const clientAddress = addressOn(c, job.type);
  const srv = deps.client(s.name);
  const cli = deps.client(c.name);
  const ttlMs = (o.durationS + 15) * 1000;
  let t0 = performance.now();
  let started;
  try {
    started = await srv.call(
      serverStart,
      { bind: serverAddress, protocol: o.protocol, ttlMs, label: `${job.type} ${c.name}->${s.name}`, ...(o.port !== undefined ? { port: o.port } : {}) },
      { signal },
    );
  } catch (e) {
    throw agentErr(s.name, 'starting the iperf server', e);
  }
  const setup = performance.now() - t0;
  let res;
  let clientMs = 0;
  let teardown = 0;
  let stop: Awaited<ReturnType<typeof srv.call<typeof serverStop.params, typeof serverStop.result>>> | null = null;
  try {
    t0 = performance.now();
    try {
      res = await cli.call(
        clientSpec,
        {
          server: serverAddress,
          port: started.port,
          bind: clientAddress,
          protocol: o.protocol,
          durationS: o.durationS,
          parallel: o.parallel,
          reverse: o.reverse,
          bidir: o.bidir,
          tool: started.tool,
          ...(o.bandwidth !== undefined ? { bandwidth: o.bandwidth } : {}),
          ...(o.window !== undefined ? { window: o.window } : {}),
          ...(o.mss !== undefined ? { mss: o.mss } : {}),
        },
        { signal, timeoutMs: (o.durationS + 30) * 1000 },
      );
    } catch (e) {
      throw agentErr(c.name, 'running the iperf client', e);
    }
    clientMs = performance.now() - t0 - res.elapsedMs;
  } finally {
    // stop the server even when the client failed or we were interrupted (not bound to the signal)
    const t1 = performance.now();
    stop = await srv.call(serverStop, { id: started.id, waitMs: 500 }, { timeoutMs: 10_000 }).catch(() => null);
    teardown = performance.now() - t1;
  }
  let result: IperfResult = res;
  if (res.tool === 'iperf2' && res.raw !== undefined && stop?.raw !== undefined) {
    const merged = parseIperf2(res.raw, { protocol: o.protocol, serverPort: started.port, reverse: o.reverse, bidir: o.bidir, serverCsv: stop.raw, version: res.version });
    if (merged.result) result = merged.result;
  }
  const { argv: _argv, elapsedMs: _e, raw: _raw, ...clean } = result as IperfResult & { argv?: unknown; elapsedMs?: unknown; raw?: unknown };
  void _argv;
  void _e;
  void _raw;
  return {
    server: s.name,
    client: c.name,
    type: job.type,
    serverAddress,
    clientAddress,
    port: started.port,
    result: clean,
    serverReport: stop?.result ?? null,
    overheadMs: { setup: round1(setup), teardown: round1(teardown), client: round1(Math.max(0, clientMs)), ...(started.timingsMs ? { serverSteps: started.timingsMs } : {}) },
  };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** The lowest received rate over the test's flows (what --min is checked against). */
export function minReceived(r: IperfResult): number {
  return Math.min(...r.flows.map((f) => f.receivedBps));
}

/* ------------------------------------------------------------------ reports */

const fmtPct = (x: number | null): string | null => (x === null ? null : `${x.toFixed(2)}%`);
const fmtCpu = (c: { total: number } | null): string | null => (c ? `${c.total.toFixed(1)}%` : null);

export function pairTable(p: PairResult, min?: number): Table {
  const r = p.result;
  const rows: Record<string, Cell | undefined> = {
    Type: p.type,
    Server: `${p.server} ${p.serverAddress}:${p.port}`,
    Client: `${p.client} ${p.clientAddress}`,
    Tool: `${r.tool}${r.version ? ` (${r.version})` : ''}`,
    Protocol: r.protocol.toUpperCase(),
    Duration: `${r.durationS} s`,
    Streams: r.streams,
  };
  for (const [i, f] of r.flows.entries()) {
    const dir = f.from === 'client' ? `${p.client} → ${p.server}` : `${p.server} → ${p.client}`;
    const sfx = r.flows.length > 1 ? ` [${i === 0 ? 'forward' : 'reverse'}]` : '';
    rows[`Direction${sfx}`] = dir;
    rows[`Sent${sfx}`] = formatBandwidth(f.sentBps);
    rows[`Received${sfx}`] = formatBandwidth(f.receivedBps);
    if (r.protocol === 'tcp') rows[`Retransmits${sfx}`] = f.retransmits;
    else {
      rows[`Jitter${sfx}`] = f.jitterMs === null ? null : `${f.jitterMs.toFixed(3)} ms`;
      rows[`Lost${sfx}`] = f.lostPackets === null ? null : `${f.lostPackets}/${f.packets ?? '?'} (${fmtPct(f.lostPercent)})`;
    }
  }
  rows['CPU client'] = fmtCpu(r.cpu.client);
  rows['CPU server'] = fmtCpu(r.cpu.server);
  if (min !== undefined) rows.Verdict = minReceived(r) >= min ? `pass (≥ ${formatBandwidth(min)})` : `FAIL (< ${formatBandwidth(min)})`;
  if (r.error) rows['iperf error'] = r.error;
  if (r.warnings.length) rows.Warnings = r.warnings.join(' | ').slice(0, 300);
  if (p.attempts !== undefined) rows.Attempts = `${p.attempts} (the earlier UDP tests hung in iperf3's handshake: its first datagram or the reply was lost)`;
  return fieldTable(rows, `${p.type}: ${p.client} → ${p.server}`);
}

export interface PairRow {
  type: NetworkTypeName;
  client: string;
  server: string;
  outcome: { ok: true; pair: PairResult } | { ok: false; error: ErrorInfo };
}

/** Turn per-pair outcomes into one CheckResult (matrix or single). */
export function buildResult(command: string, rows: PairRow[], types: NetworkTypeName[], nodes: string[], o: { min?: number; matrix: boolean; protocol: Protocol; durationS: number }): CheckResult {
  const failures: string[] = [];
  const errors: ErrorInfo[] = [];
  const list = rows.map((row) => {
    const base = { type: row.type, client: row.client, server: row.server };
    if (!row.outcome.ok) {
      errors.push(row.outcome.error);
      return { ...base, sent: null, received: null, received_bps: null, retransmits: null, jitter_ms: null, loss_pct: null, status: `error: ${row.outcome.error.code}: ${row.outcome.error.message}` };
    }
    const r = row.outcome.pair.result;
    const f = r.flows[0]!;
    const recv = minReceived(r);
    let status = r.error ? `partial: ${r.error}` : 'ok';
    if (o.min !== undefined && recv < o.min) {
      status = `FAIL < ${formatBandwidth(o.min)}`;
      failures.push(`${row.type} ${row.client}→${row.server} ${formatBandwidth(recv)}`);
    }
    return {
      ...base,
      sent: formatBandwidth(f.sentBps),
      received: formatBandwidth(f.receivedBps),
      received_bps: Math.round(recv),
      retransmits: f.retransmits,
      jitter_ms: f.jitterMs === null ? null : Number(f.jitterMs.toFixed(3)),
      loss_pct: f.lostPercent === null ? null : Number(f.lostPercent.toFixed(3)),
      status,
    };
  });
  const tables: Table[] = [];
  if (o.matrix) {
    tables.push({ title: 'pairs', columns: ['type', 'client', 'server', 'sent', 'received', 'received_bps', 'retransmits', 'jitter_ms', 'loss_pct', 'status'], rows: list });
    for (const type of types) {
      const mrows = nodes.map((from) => {
        const row: Record<string, Cell> = { 'client \\ server': from };
        for (const to of nodes) {
          if (from === to) {
            row[to] = '—';
            continue;
          }
          const hit = rows.find((x) => x.type === type && x.client === from && x.server === to);
          if (!hit) row[to] = null;
          else if (!hit.outcome.ok) row[to] = `ERR ${hit.outcome.error.code}`;
          else {
            const v = minReceived(hit.outcome.pair.result);
            row[to] = `${formatBandwidth(v)}${o.min !== undefined && v < o.min ? ' ✗' : ''}`;
          }
        }
        return row;
      });
      tables.push({ title: `${type}: received bandwidth, client (row) → server (column)`, columns: ['client \\ server', ...nodes], rows: mrows });
    }
  } else {
    for (const row of rows) {
      if (row.outcome.ok) tables.push(pairTable(row.outcome.pair, o.min));
      else tables.push(fieldTable({ Type: row.type, Server: row.server, Client: row.client, Error: `${row.outcome.error.code}: ${row.outcome.error.message}`, Hint: row.outcome.error.hint }, `${row.type}: ${row.client} → ${row.server}`));
    }
  }
  const okCount = rows.filter((r) => r.outcome.ok).length;
  const ok = errors.length === 0 && failures.length === 0;
  let verdict: string;
  if (errors.length) verdict = `${errors.length} of ${rows.length} tests failed to run (${errors[0]!.message})${failures.length ? `; ${failures.length} below ${formatBandwidth(o.min)}: ${failures.join(', ')}` : ''}`;
  else if (failures.length) verdict = `${failures.length} of ${rows.length} below ${formatBandwidth(o.min)}: ${failures.join(', ')}`;
  else if (o.min !== undefined) verdict = `all ${rows.length} tests ≥ ${formatBandwidth(o.min)}`;
  else {
    const rates = rows.flatMap((r) => (r.outcome.ok ? [minReceived(r.outcome.pair.result)] : []));
    verdict = rows.length === 1 && rows[0]!.outcome.ok
      ? `${rows[0]!.type}: ${formatBandwidth(rates[0]!)} received ${rows[0]!.client} → ${rows[0]!.server} (${o.protocol.toUpperCase()}, ${o.durationS} s)`
      : `${okCount} tests, received ${formatBandwidth(Math.min(...rates))} … ${formatBandwidth(Math.max(...rates))} (${o.protocol.toUpperCase()}, ${o.durationS} s)`;
  }
  const result: CheckResult = {
    command,
    ok,
    verdict,
    tables,
    data: {
      types,
      nodes,
      min: o.min ?? null,
      failures,
      tests: rows.map((r) => (r.outcome.ok ? { ok: true, ...r.outcome.pair } : { ok: false, type: r.type, client: r.client, server: r.server, error: r.outcome.error })),
    },
  };
  if (errors.length) result.exitCode = Math.max(...errors.map((e) => (e.exitCode === EXIT.USAGE ? EXIT.FAULT : e.exitCode)), failures.length ? EXIT.FAULT : 0);
  return result;
}

/* ------------------------------------------------------------------ runs */

export interface SingleArgs {
  server: string;
  client: string;
  serverType: string;
  test: TestOptions;
  min?: number;
}

export async function runSingle(deps: IperfDeps, a: SingleArgs): Promise<CheckResult> {
  if (!(SERVER_TYPES as readonly string[]).includes(a.serverType)) {
    throw new StethError('EINVAL', `unknown iperf server type '${a.serverType.slice(0, 30)}'`, { hint: "choose from 'mgmt', 'net', 'storage' or 'others' (all three)" });
  }
  const types = parseTypes(a.serverType);
  const cfg = await deps.config();
  const s = findAgentEntry(cfg, a.server);
  const c = findAgentEntry(cfg, a.client);
  // every address first: bad input changes nothing
  for (const t of types) {
    addressOn(s, t);
    addressOn(c, t);
  }
  const rows: PairRow[] = [];
  for (const type of types) {
    if (deps.signal.aborted) throw new StethError('ECANCELED', 'interrupted');
    try {
      const pair = await runPair(deps, cfg, { server: s.name, client: c.name, type }, a.test);
      rows.push({ type, client: c.name, server: s.name, outcome: { ok: true, pair } });
    } catch (e) {
      if (types.length === 1 || deps.signal.aborted) throw e;
      rows.push({ type, client: c.name, server: s.name, outcome: { ok: false, error: describeError(e) } });
    }
  }
  return buildResult('check-iperf', rows, types, [c.name, s.name], { matrix: false, protocol: a.test.protocol, durationS: a.test.durationS, ...(a.min !== undefined ? { min: a.min } : {}) });
}

export interface MatrixArgs {
  types: NetworkTypeName[];
  /** empty: every configured agent */
  nodes: string[];
  test: TestOptions;
  min?: number;
  serial: boolean;
  onProgress?: (text: string) => void;
}

export async function runMatrixCheck(deps: IperfDeps, a: MatrixArgs): Promise<CheckResult> {
  const cfg = await deps.config();
  const names = a.nodes.length ? a.nodes.map((n) => findAgentEntry(cfg, n).name) : cfg.agents.map((x) => x.name);
  const nodes = [...new Set(names)];
  if (nodes.length < 2) throw new StethError('EINVAL', `the matrix needs at least two agents (got ${nodes.length})`, { hint: 'configure more [agent NAME] sections or pass --nodes A,B' });
  for (const n of nodes) for (const t of a.types) addressOn(findAgentEntry(cfg, n), t);
  const jobs = matrixJobs(nodes, a.types);
  const running = new Set<string>();
  const label = (j: MatrixJob): string => `${j.type} ${j.client}→${j.server}`;
  let done = 0;
  const tick = (): void => {
    const width = 20;
    const fill = Math.round((done / jobs.length) * width);
    a.onProgress?.(`[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${jobs.length}  ${[...running].join(', ')}`);
  };
  const outcomes: JobOutcome<MatrixJob<NetworkTypeName>, PairResult>[] = await runMatrix(
    jobs,
    (job, signal) => runPair(deps, cfg, job, a.test, signal ?? deps.signal),
    {
      serial: a.serial,
      signal: deps.signal,
      onStart: (j) => {
        running.add(label(j));
        tick();
      },
      onProgress: (d, _t, j) => {
        done = d;
        running.delete(label(j));
        tick();
      },
    },
  );
  if (deps.signal.aborted) throw new StethError('ECANCELED', 'interrupted');
  const rows: PairRow[] = outcomes.map((o) => ({
    type: o.job.type,
    client: o.job.client,
    server: o.job.server,
    outcome: o.ok ? { ok: true, pair: o.value! } : { ok: false, error: describeError(o.error) },
  }));
  const res = buildResult('check-iperf --matrix', rows, a.types, nodes, { matrix: true, protocol: a.test.protocol, durationS: a.test.durationS, ...(a.min !== undefined ? { min: a.min } : {}) });
  const wall = Math.max(0, ...outcomes.map((o) => o.endedAt)) - Math.min(...outcomes.map((o) => o.startedAt));
  const serialSum = outcomes.reduce((s, o) => s + (o.endedAt - o.startedAt), 0);
  (res.data as Record<string, unknown>).timing = { wallMs: wall, sumMs: serialSum, jobs: jobs.length, serial: a.serial, keys: outcomes.map((o) => jobKey(o.job)) };
  return res;
}
