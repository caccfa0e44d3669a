import test from 'ava';
import { planRounds, matrixJobs, runMatrix, jobKey, type MatrixJob } from '../../../probes/iperf/schedule.js';

const nodes = ['network-1', 'compute-1', 'compute-2'];
const types = ['mgmt', 'net', 'storage'] as const;

test('planRounds: every ordered pair × type exactly once', (t) => {
  const jobs = planRounds(nodes, types).flat();
  t.is(jobs.length, 3 * 2 * 3);
  t.is(new Set(jobs.map(jobKey)).size, jobs.length);
  t.false(jobs.some((j) => j.server === j.client));
});

test('planRounds: each round uses every node once as server and once as client (n-1 rounds of n per type)', (t) => {
  for (const n of [2, 3, 4, 5, 7]) {
    const ns = Array.from({ length: n }, (_, i) => `n${i}`);
    const rounds = planRounds(ns, types);
    t.is(rounds.length, (n - 1) * types.length);
    for (const r of rounds) {
      t.is(r.length, n);
      t.is(new Set(r.map((j) => j.server)).size, n);
      t.is(new Set(r.map((j) => j.client)).size, n);
    }
  }
});

test('planRounds: fewer than two nodes → nothing to do; duplicates ignored', (t) => {
  t.deepEqual(planRounds(['a'], types), []);
  t.is(planRounds(['a', 'b', 'a'], ['mgmt']).flat().length, 2);
});

/** A fake runner that records concurrency per node role and resolves after a tick. */
function recorder(delay: (j: MatrixJob) => number = () => 5) {
  const serving = new Map<string, number>();
  const sending = new Map<string, number>();
  let running = 0;
  let maxRunning = 0;
  const violations: string[] = [];
  const ran: string[] = [];
  const runner = async (j: MatrixJob): Promise<string> => {
    serving.set(j.server, (serving.get(j.server) ?? 0) + 1);
    sending.set(j.client, (sending.get(j.client) ?? 0) + 1);
    if (serving.get(j.server)! > 1) violations.push(`${j.server} serves twice`);
    if (sending.get(j.client)! > 1) violations.push(`${j.client} sends twice`);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, delay(j)));
    running--;
    serving.set(j.server, serving.get(j.server)! - 1);
    sending.set(j.client, sending.get(j.client)! - 1);
    ran.push(jobKey(j));
    return jobKey(j);
  };
  return { runner, violations, ran, max: () => maxRunning };
}

test('runMatrix: all jobs run once, never a node serving or sending twice, n jobs in parallel', async (t) => {
  const jobs = matrixJobs(nodes, types);
  const rec = recorder();
  const out = await runMatrix(jobs, rec.runner);
  t.deepEqual(rec.violations, []);
  t.is(rec.ran.length, jobs.length);
  t.is(new Set(rec.ran).size, jobs.length);
  t.is(rec.max(), 3);
  t.true(out.every((o) => o.ok));
  t.deepEqual(out.map((o) => o.value), jobs.map(jobKey)); // outcomes in job order
});

test('runMatrix --serial: exactly one job at a time', async (t) => {
  const rec = recorder(() => 1);
  await runMatrix(matrixJobs(nodes, ['mgmt']), rec.runner, { serial: true });
  t.is(rec.max(), 1);
  t.is(rec.ran.length, 6);
});

test('runMatrix: a slow pair does not hold back jobs of free nodes (dynamic dispatch)', async (t) => {
  // the slow job (b serves a) finishes only once a second-round job has started while it runs
  // (with a round barrier that never happens; a 2 s fallback keeps the test from hanging)
  const jobs = matrixJobs(['a', 'b', 'c', 'd'], ['mgmt']);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let started = 0;
  let startedWhileSlow = 0;
  let slowRunning = false;
  const fallback = setTimeout(() => release(), 2000);
  const out = await runMatrix(jobs, async (j) => {
    started++;
    if (j.server === 'b' && j.client === 'a') {
      slowRunning = true;
      await released;
      slowRunning = false;
      return 0;
    }
    if (slowRunning && started > 4) {
      startedWhileSlow++;
      release();
    }
    await Promise.resolve();
    return 1;
  });
  clearTimeout(fallback);
  t.true(out.every((o) => o.ok));
  t.true(startedWhileSlow > 0);
});

test('runMatrix: a failing job is reported, the others still run', async (t) => {
  const jobs = matrixJobs(nodes, ['mgmt']);
  const out = await runMatrix(jobs, async (j) => {
    if (j.server === 'compute-1' && j.client === 'network-1') throw new Error('boom');
    return 1;
  });
  t.is(out.filter((o) => !o.ok).length, 1);
  t.is((out.find((o) => !o.ok)!.error as Error).message, 'boom');
  t.is(out.filter((o) => o.ok).length, 5);
});

test('runMatrix: abort stops starting new jobs; unstarted ones are reported not run', async (t) => {
  const ac = new AbortController();
  const jobs = matrixJobs(nodes, types);
  let started = 0;
  const out = await runMatrix(
    jobs,
    async () => {
      started++;
      if (started === 2) ac.abort(new Error('cancelled'));
      await new Promise((r) => setTimeout(r, 5));
      return 1;
    },
    { signal: ac.signal },
  );
  t.is(out.length, jobs.length);
  t.true(started < jobs.length);
  t.true(out.filter((o) => !o.ok).length >= jobs.length - started);
});

test('runMatrix: progress reports every job; empty job list resolves', async (t) => {
  const seen: number[] = [];
  await runMatrix(matrixJobs(nodes, ['net']), async () => 1, { onProgress: (d) => seen.push(d) });
  t.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  t.deepEqual(await runMatrix([], async () => 1), []);
});
