/**
 * `npm run bench -- iperf [--quick]` (root; brings up its own lab and removes it).
 *
 * 1. steth's overhead around iperf3, per test: setup (iperf.serverStart RPC until the
 *    server listens) + teardown (iperf.serverStop RPC), goal ≤ 50 ms. Also the wall
 *    time of one whole 1-s test through steth versus the same test run by hand with
 *    bare iperf3 (`ip netns exec` server + client), interleaved A B A B.
 * 2. The matrix: the lab's 3 nodes × 3 types (quick: mgmt only) at -t 1 -b 50M, wall
 *    time with the scheduler (one server + one client per node at a time) versus
 *    --serial on the same lab (anchor), and versus the sum of the parallel run's own
 *    test durations (scheduling efficiency = sum / wall; 3 nodes allow 3 at once).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { labDown, labUp } from '../../src/lab/index.js';
import type { LabState } from '../../src/lab/types.js';
import { loadConfig } from '../../src/config/load.js';
import { AgentClient } from '../../src/rpc/client.js';
import { run } from '../../src/host/exec.js';
import { runPair, runMatrixCheck, testOptions, type IperfDeps, type PairResult } from '../../probes/iperf/run.js';
import { result, round, type BenchOptions, type BenchReport, type BenchResult } from './harness.js';

async function deps(configPath: string): Promise<IperfDeps> {
  const cfg = await loadConfig({ path: configPath });
  const clients = new Map<string, AgentClient>();
  return {
    config: async () => cfg,
    client: (name) => {
      let c = clients.get(name);
      if (!c) {
        const a = cfg.agents.find((x) => x.name === name)!;
        c = new AgentClient({ name, url: a.url, timeoutMs: 60_000, ...(cfg.token !== undefined ? { token: cfg.token } : {}) });
        clients.set(name, c);
      }
      return c;
    },
    signal: new AbortController().signal,
  };
}

/** Did this iperf3 -J client report connect to `port`? */
function connectedTo(json: string, port: number): boolean {
  try {
    const j = JSON.parse(json) as { start?: { connected?: Array<{ remote_port?: number }> } };
    return (j.start?.connected ?? []).some((c) => c.remote_port === port);
  } catch {
    return false;
  }
}

/** The same 1-s test by hand: one-off server in the server node, client in the client node. */
async function bareIperf(state: LabState, server: string, client: string, seconds: number, bw: string): Promise<number> {
  const s = state.nodes.find((n) => n.name === server)!;
  const c = state.nodes.find((n) => n.name === client)!;
  const port = 15000 + Math.floor(Math.random() * 190);
  const t0 = performance.now();
  const srv = spawn('ip', ['netns', 'exec', s.netns, 'iperf3', '-s', '-1', '-J', '-p', String(port), '-B', s.addresses.mgmt], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => srv.once('exit', () => r()));
  // as a person would: retry the client until the server answers (bounded); a run counts only
  // when iperf3's report shows it connected to this server's port
  let last = '';
  let ok = false;
  while (!ok && performance.now() - t0 < 15_000) {
    const r = await run('iperf3', ['-c', s.addresses.mgmt, '-p', String(port), '-B', c.addresses.mgmt, '-t', String(seconds), '-b', bw, '-J'], { netns: c.netns, allowFail: true, timeoutMs: 30_000 });
    ok = r.code === 0 && connectedTo(r.stdout, port);
    last = r.stdout.slice(-300) + r.stderr.slice(-300);
    if (!ok) await new Promise((res) => setTimeout(res, 5));
  }
  // a one-off server exits after its test; never wait on it without a bound
  const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), ok ? 10_000 : 0))]);
  if (!gone) {
    srv.kill('SIGTERM');
    await exited;
  }
  if (!ok) throw new Error(`bare iperf3 test did not run: ${last}`);
  if (!gone) throw new Error(`bare iperf3 server on port ${port} did not exit after its one test`);
  return performance.now() - t0;
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  const prefix = `bi${randomBytes(2).toString('hex')}`;
  const notes: string[] = [];
  const results: BenchResult[] = [];
  const load0 = loadavg()[0]!;
  const state = await labUp({ prefix });
  try {
    const d = await deps(state.configPath);
    const cfg = await d.config();
    const test = testOptions({ time: '1', bandwidth: '50M' });
    // warm-up (agent module caches, iperf3 --version probe, ARP)
    await runPair(d, cfg, { server: 'network-1', client: 'compute-1', type: 'mgmt' }, test);

    const reps = opts.quick ? 3 : 8;
    const setup: number[] = [];
    const teardown: number[] = [];
    const both: number[] = [];
    const clientOv: number[] = [];
    const stethWall: number[] = [];
    const steps: Record<string, number[]> = {};
    const hello2: number[] = [];
    const agentN1 = d.client('network-1');
    const bareWall: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const p: PairResult = await runPair(d, cfg, { server: 'network-1', client: 'compute-1', type: 'mgmt' }, test);
      stethWall.push(performance.now() - t0);
      setup.push(p.overheadMs.setup);
      teardown.push(p.overheadMs.teardown);
      both.push(p.overheadMs.setup + p.overheadMs.teardown);
      clientOv.push(p.overheadMs.client);
      for (const [k, v] of Object.entries(p.overheadMs.serverSteps ?? {})) (steps[k] ??= []).push(v);
      bareWall.push(await bareIperf(state, 'network-1', 'compute-1', 1, '50M'));
      // the floor for setup + teardown: two RPC round trips that do nothing
      const h0 = performance.now();
      await agentN1.callRaw('agent.hello', {});
      await agentN1.callRaw('agent.hello', {});
      hello2.push(performance.now() - h0);
    }
    const bareMed = result('x', 'ms', bareWall).value;
    const ovr = result('overhead_setup_plus_teardown', 'ms', both, { goal: '<= 50 ms', anchor: { name: '2 x agent.hello round trip (the RPC floor), same run', value: result('h', 'ms', hello2).value } });
    ovr.ratio = round(ovr.value / ovr.anchor!.value);
    results.push(ovr);
    results.push(result('overhead_setup_serverStart', 'ms', setup));
    results.push(result('overhead_teardown_serverStop', 'ms', teardown));
    notes.push(`serverStart inside the agent, cumulative ms (median): ${Object.entries(steps).map(([k, v]) => `${k} ${result(k, 'ms', v).value}`).join(', ')}`);
    results.push(result('overhead_client_rpc_beyond_iperf3', 'ms', clientOv));
    const sw = result('one_test_wall_steth_1s', 'ms', stethWall, { anchor: { name: 'bare iperf3 -s -1 + -c by hand (ip netns exec), same run', value: bareMed } });
    sw.ratio = round(sw.value / bareMed);
    sw.goal = 'ratio close to 1 (lower is better)';
    results.push(sw);

    // the matrix
    const types = opts.quick ? (['mgmt'] as const) : (['mgmt', 'net', 'storage'] as const);
    const rounds = opts.quick ? 1 : 2;
    const par: number[] = [];
    const ser: number[] = [];
    const eff: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = await runMatrixCheck(d, { types: [...types], nodes: [], test, serial: false });
      const ta = (a.data as { timing: { wallMs: number; sumMs: number } }).timing;
      par.push(ta.wallMs);
      eff.push(ta.sumMs / ta.wallMs);
      if (!a.ok) notes.push(`parallel matrix round ${i + 1}: ${a.verdict}`);
      const b = await runMatrixCheck(d, { types: [...types], nodes: [], test, serial: true });
      ser.push((b.data as { timing: { wallMs: number } }).timing.wallMs);
      if (!b.ok) notes.push(`serial matrix round ${i + 1}: ${b.verdict}`);
    }
    const serMed = result('x', 'ms', ser).value;
    const jobs = 6 * types.length;
    const m = result(`matrix_wall_${jobs}_tests_1s`, 'ms', par, { anchor: { name: '--serial on the same lab, same run', value: serMed } });
    m.ratio = round(serMed / m.value);
    m.goal = 'speed-up vs serial; 3 is the bound for 3 nodes';
    results.push(m);
    results.push(result('matrix_scheduling_efficiency', 'x', eff, { goal: 'sum of test times / wall; 3 is the bound for 3 nodes', note: 'tests share 2 cores with the lab' }));
    notes.push(`lab ${prefix}: 3 nodes; tests at -t 1 -b 50M (TCP); overhead = RPC round trips + iperf3 spawn until the listening socket shows in /proc/net/tcp, with the ledger's fsync'd state file`);
    notes.push(`load average at start ${load0.toFixed(1)}, at end ${loadavg()[0]!.toFixed(1)} (machine shared with other builds: figures are upper bounds)`);
    notes.push('excluded: lab up/down, one warm-up test');
  } finally {
    await labDown(prefix);
  }
  return { results, notes };
}
