/**
 * Shared benchmark plumbing (format: shared BENCH.md). A benchmark measures its
 * subject and the anchor in the same run, interleaved (A B A B), and never asserts.
 * Output: a human table, then as the very last stdout line one JSON object.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';

export interface BenchOptions {
  quick: boolean;
  args: string[];
}

export interface Anchor {
  name: string;
  value: number;
}

export interface BenchResult {
  metric: string;
  unit: string;
  value: number;
  min?: number;
  max?: number;
  p95?: number;
  anchor?: Anchor;
  /** value / anchor.value (or the inverse where lower is better: say so in goal) */
  ratio?: number;
  goal?: string;
  note?: string;
}

export interface BenchReport {
  results: BenchResult[];
  /** what was excluded (warm-up, compile), what differs from the anchor */
  notes?: string[];
}

export type Benchmark = (opts: BenchOptions) => Promise<BenchReport>;

export interface Summary {
  median: number;
  min: number;
  max: number;
  p95: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { median: NaN, min: NaN, max: NaN, p95: NaN, n: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => {
    const idx = (s.length - 1) * p;
    const lo = Math.floor(idx);
    const hi = Math.ceil(idx);
    return s[lo]! + (s[hi]! - s[lo]!) * (idx - lo);
  };
  return { median: q(0.5), min: s[0]!, max: s[s.length - 1]!, p95: q(0.95), n: s.length };
}

/** Build a result from samples; ratio = median / anchor (higher-is-better metrics). */
export function result(metric: string, unit: string, samples: readonly number[], extra: Partial<BenchResult> = {}): BenchResult {
  const st = summarize(samples);
  const r: BenchResult = { metric, unit, value: round(st.median), min: round(st.min), max: round(st.max), ...extra };
  if (samples.length >= 5) r.p95 = round(st.p95);
  if (r.anchor && r.ratio === undefined && r.anchor.value > 0) r.ratio = round(r.value / r.anchor.value);
  return r;
}

export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  const a = Math.abs(n);
  const digits = a >= 1000 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 4;
  return Number(n.toFixed(digits));
}

/** Wall time (ms) of one `node ARGS` run in a child process, output discarded, exit status ignored. */
export function timeNode(args: readonly string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => execFile(process.execPath, [...args], { maxBuffer: 16 << 20 }, () => resolve(performance.now() - t0)));
}

/** Time a synchronous op repeatedly for ~ms milliseconds; returns ops/s. */
export function opsPerSecond(fn: () => unknown, ms: number): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 64; i++) fn();
    n += 64;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

export function printReport(bench: string, report: BenchReport, out: NodeJS.WritableStream = process.stdout): void {
  const rows = report.results.map((r) => [
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    r.min === undefined ? '' : fmt(r.min),
    r.max === undefined ? '' : fmt(r.max),
    r.anchor ? `${r.anchor.name}: ${fmt(r.anchor.value)}` : '',
    r.ratio === undefined ? '' : `${fmt(r.ratio)}x`,
    r.goal ?? '',
  ]);
  const head = ['metric', 'median', 'min', 'max', 'anchor (same run)', 'ratio', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  out.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of rows) out.write(`${line(row)}\n`);
  for (const n of report.notes ?? []) out.write(`note: ${n}\n`);
  const json = { bench, machine: { cpus: os.cpus().length, node: process.version }, results: report.results };
  out.write(`${JSON.stringify(json)}\n`);
}

function fmt(n: number): string {
  return Math.abs(n) >= 10000 ? Math.round(n).toLocaleString('en-US') : String(n);
}
