/**
 * Runs a doctor plan: every step through the steth CLI itself (in-process, -f json),
 * so each check is exactly the command an operator would run by hand, then one
 * summary table (check, target, result, verdict) and one overall verdict.
 */
import { runCli } from '../../src/cli/run.js';
import type { CheckResult, Table } from '../../src/report/model.js';
import { EXIT } from '../../src/report/model.js';
import type { DoctorStep } from './plan.js';

export interface StepOutcome {
  check: string;
  target: string;
  command: string;
  /** pass: the check ran and found no fault; fail: it found one; error: it could not run */
  result: 'pass' | 'fail' | 'error';
  exitCode: number;
  verdict: string;
  ms: number;
  /** the sub-command's JSON output ({ok, verdict, data, tables} or {error}) */
  output: unknown;
}

export type StepRunner = (argv: string[], signal: AbortSignal) => Promise<{ code: number; stdout: string; stderr: string }>;

/** The real runner: the CLI in-process with captured streams. */
export const cliRunner: StepRunner = async (argv, signal) => {
  let stdout = '';
  let stderr = '';
  const { code } = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    signal,
  });
  return { code, stdout, stderr };
};

export async function runDoctor(
  steps: readonly DoctorStep[],
  globals: readonly string[],
  opts: { runner?: StepRunner; signal: AbortSignal; onStep?: (i: number, step: DoctorStep) => void },
): Promise<StepOutcome[]> {
  const runner = opts.runner ?? cliRunner;
  const out: StepOutcome[] = [];
  for (const [i, step] of steps.entries()) {
    if (opts.signal.aborted) break;
    opts.onStep?.(i, step);
    const t0 = performance.now();
    const r = await runner([...globals, '-f', 'json', ...step.argv], opts.signal);
    out.push(outcome(step, r.code, r.stdout, r.stderr, performance.now() - t0));
  }
  return out;
}

export function outcome(step: DoctorStep, code: number, stdout: string, stderr: string, ms: number): StepOutcome {
  const parsed = parseJsonOutput(stdout);
  let verdict = '';
  if (isObj(parsed) && typeof parsed.verdict === 'string') verdict = parsed.verdict;
  else if (isObj(parsed) && isObj(parsed.error)) verdict = `${String(parsed.error.code ?? '')}: ${String(parsed.error.message ?? '')}`.trim();
  else verdict = (stderr.trim().split('\n')[0] ?? '').slice(0, 200) || `exit ${code}`;
  const result: StepOutcome['result'] = code === EXIT.OK ? 'pass' : code === EXIT.FAULT ? 'fail' : 'error';
  return { check: step.check, target: step.target, command: `steth ${step.argv.join(' ')}`, result, exitCode: code, verdict, ms: Math.round(ms), output: parsed ?? null };
}

/** A command may emit one JSON document or several in a row; keep them all. */
export function parseJsonOutput(text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  try {
    return JSON.parse(t);
  } catch {
    // several pretty-printed documents back to back: split at top-level boundaries
    const docs: unknown[] = [];
    let depth = 0;
    let start = -1;
    let inStr = false;
    let esc = false;
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      if (inStr) {
        if (esc) esc = false;
        else if (c === '\\') esc = true;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === '{' || c === '[') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0 && start >= 0) {
          try {
            docs.push(JSON.parse(t.slice(start, i + 1)));
          } catch {
            /* not JSON */
          }
          start = -1;
        }
      }
    }
    if (docs.length === 0) return undefined;
    return docs.length === 1 ? docs[0] : docs;
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function summarize(outcomes: readonly StepOutcome[]): CheckResult {
  const failed = outcomes.filter((o) => o.result === 'fail');
  const errored = outcomes.filter((o) => o.result === 'error');
  const table: Table = {
    title: 'preflight',
    columns: ['check', 'target', 'result', 'verdict', 'ms'],
    rows: outcomes.map((o) => ({ check: o.check, target: o.target, result: o.result, verdict: o.verdict, ms: o.ms })),
  };
  const ok = failed.length === 0 && errored.length === 0 && outcomes.length > 0;
  let verdict: string;
  if (outcomes.length === 0) verdict = 'no checks ran (nothing configured to check)';
  else if (ok) verdict = `all ${outcomes.length} checks passed`;
  else {
    const first = failed[0] ?? errored[0]!;
    verdict = `${failed.length} failed, ${errored.length} could not run, ${outcomes.length - failed.length - errored.length} passed; first: ${first.check} ${first.target}: ${first.verdict}`;
  }
  // an unreachable agent (4) outranks a fault (1); a local environment problem (3) too
  const worst = Math.max(0, ...errored.map((o) => o.exitCode).filter((c) => c === EXIT.AGENT || c === EXIT.ENV));
  const r: CheckResult = { command: 'doctor', ok, verdict, tables: [table], data: { checks: outcomes } };
  if (!ok) r.exitCode = worst > 0 ? worst : EXIT.FAULT;
  if (outcomes.length === 0) r.exitCode = EXIT.USAGE;
  return r;
}
