/**
 * The bandwidth matrix scheduler. Jobs are (server, client, type) for every ordered
 * pair of distinct nodes and every network type. iperf3 serves one test per server
 * and a node's NIC should carry one test each way, so at any moment a node runs at
 * most one test as server and at most one as client. Within that rule as many jobs
 * as possible run at once; `serial` runs exactly one at a time (clean figures).
 *
 * planRounds() gives the optimal static plan: for n nodes, the rotations
 * i → i+k (mod n), k = 1..n-1, are n-1 rounds of n jobs each (every node serves
 * once and is a client once per round), times the number of types. runMatrix()
 * dispatches dynamically in that order: when a job ends, every pending job whose
 * server is free to serve and whose client is free to send starts at once, so a
 * slow pair does not hold a whole round back.
 */

export interface MatrixJob<T extends string = string> {
  server: string;
  client: string;
  type: T;
}

export const jobKey = (j: MatrixJob): string => `${j.type}:${j.server}->${j.client}`;

/** Every ordered pair × type, in the round order of planRounds (flattened). */
export function matrixJobs<T extends string>(nodes: readonly string[], types: readonly T[]): MatrixJob<T>[] {
  return planRounds(nodes, types).flat();
}

/** Rounds of jobs where no node serves twice or sends twice; n-1 rounds of n jobs per type (n ≥ 2). */
export function planRounds<T extends string>(nodes: readonly string[], types: readonly T[]): MatrixJob<T>[][] {
  const uniq = [...new Set(nodes)];
  const n = uniq.length;
  const rounds: MatrixJob<T>[][] = [];
  if (n < 2) return rounds;
  for (const type of types) {
    for (let k = 1; k < n; k++) {
      const round: MatrixJob<T>[] = [];
      for (let i = 0; i < n; i++) round.push({ server: uniq[(i + k) % n]!, client: uniq[i]!, type });
      rounds.push(round);
    }
  }
  return rounds;
}

export interface JobOutcome<J, V> {
  job: J;
  ok: boolean;
  value?: V;
  error?: unknown;
  startedAt: number;
  endedAt: number;
}

export interface RunMatrixOptions<J> {
  /** one job at a time */
  serial?: boolean;
  /** stop starting new jobs when aborted (running ones get the signal) */
  signal?: AbortSignal;
  /** called after each job ends: done, total */
  onProgress?: (done: number, total: number, last: J) => void;
  /** called when a job starts */
  onStart?: (job: J, running: number) => void;
  now?: () => number;
}

/**
 * Run jobs under the one-server-one-client-per-node rule. Resolves with one
 * outcome per job, in the order given. A job's failure does not stop the others.
 */
export async function runMatrix<J extends MatrixJob, V>(
  jobs: readonly J[],
  runner: (job: J, signal: AbortSignal | undefined) => Promise<V>,
  opts: RunMatrixOptions<J> = {},
): Promise<JobOutcome<J, V>[]> {
  const now = opts.now ?? Date.now;
  const outcomes = new Array<JobOutcome<J, V> | undefined>(jobs.length);
  const pending = jobs.map((_, i) => i);
  const serving = new Set<string>();
  const sending = new Set<string>();
  let running = 0;
  let done = 0;
  return await new Promise((resolve) => {
    const finishIfDone = (): boolean => {
      if (running === 0 && (pending.length === 0 || opts.signal?.aborted)) {
        // jobs never started because of an abort
        for (const i of pending) {
          const t = now();
          outcomes[i] = { job: jobs[i]!, ok: false, error: opts.signal?.reason ?? new Error('not run'), startedAt: t, endedAt: t };
        }
        pending.length = 0;
        resolve(outcomes as JobOutcome<J, V>[]);
        return true;
      }
      return false;
    };
    const pump = (): void => {
      if (finishIfDone()) return;
      if (opts.signal?.aborted) return;
      for (let p = 0; p < pending.length; p++) {
        if (opts.serial && running > 0) break;
        const i = pending[p]!;
        const job = jobs[i]!;
        if (serving.has(job.server) || sending.has(job.client) || job.server === job.client) continue;
        pending.splice(p, 1);
        p--;
        serving.add(job.server);
        sending.add(job.client);
        running++;
        const startedAt = now();
        opts.onStart?.(job, running);
        let p2: Promise<V>;
        try {
          p2 = runner(job, opts.signal);
        } catch (e) {
          p2 = Promise.reject(e);
        }
        p2.then(
          (value) => {
            outcomes[i] = { job, ok: true, value, startedAt, endedAt: now() };
          },
          (error: unknown) => {
            outcomes[i] = { job, ok: false, error, startedAt, endedAt: now() };
          },
        ).finally(() => {
          serving.delete(job.server);
          sending.delete(job.client);
          running--;
          done++;
          opts.onProgress?.(done, jobs.length, job);
          pump();
        });
      }
      // a job with server === client can never run
      if (running === 0 && pending.length > 0 && !opts.signal?.aborted) {
        for (const i of pending) {
          const t = now();
          outcomes[i] = { job: jobs[i]!, ok: false, error: new Error('server and client are the same node'), startedAt: t, endedAt: t };
        }
        pending.length = 0;
        finishIfDone();
      }
    };
    opts.signal?.addEventListener('abort', () => finishIfDone(), { once: true });
    pump();
  });
}
