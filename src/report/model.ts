/**
 * The one result model every command prints. A command builds a CheckResult and
 * hands it to Output.emit(); the renderers (src/report/render.ts) turn it into a
 * table on a TTY, TSV when piped, JSON / CSV / value on request.
 */

export type Cell = string | number | boolean | null;

export interface Table {
  title?: string;
  /** column order; rows may carry more keys, only these are shown */
  columns: string[];
  rows: Record<string, Cell>[];
}

export interface CheckResult {
  /** the command that produced it, e.g. 'get-interface' */
  command: string;
  /** false when a check found a fault (exit 1 unless exitCode says otherwise) */
  ok: boolean;
  /** one line an operator reads first */
  verdict: string;
  tables: Table[];
  /** machine-readable payload (the `data` key of -f json) */
  data: unknown;
  /** overrides the exit code derived from `ok` (e.g. EXIT.AGENT when an agent was unreachable) */
  exitCode?: number;
}

/** Exit codes (documented in `steth help exit-codes`). */
export const EXIT = {
  OK: 0,
  FAULT: 1,
  USAGE: 2,
  ENV: 3,
  AGENT: 4,
  SIGINT: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Small helper: a one-table result. */
export function singleTable(command: string, ok: boolean, verdict: string, table: Table, data: unknown = table.rows, exitCode?: number): CheckResult {
  const r: CheckResult = { command, ok, verdict, tables: [table], data };
  if (exitCode !== undefined) r.exitCode = exitCode;
  return r;
}

/** A key/value table ("Field", "Value") from a flat object — for single-object reports. */
export function fieldTable(obj: Record<string, Cell | undefined>, title?: string): Table {
  const rows = Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ({ Field: k, Value: v as Cell }));
  const t: Table = { columns: ['Field', 'Value'], rows };
  if (title !== undefined) t.title = title;
  return t;
}
