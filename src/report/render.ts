/**
 * Renderers for the one result model (model.ts):
 *  - table on a TTY: title, aligned columns with a header, long cells cut to the
 *    terminal width; bold header unless NO_COLOR;
 *  - table when piped: tab-separated rows, no header, no colour (gh's habit);
 *  - json: {ok, verdict, data, tables};
 *  - csv: the first table with a header (RFC 4180 quoting);
 *  - value: the first table's cells separated by spaces, one row per line.
 * `-c COLUMN` selects columns (case-insensitive); an unknown column is a usage error.
 */
import { StethError } from '../errors.js';
import type { Cell, CheckResult, Table } from './model.js';

export type RenderFormat = 'table' | 'json' | 'value' | 'csv';

export interface RenderOptions {
  format: RenderFormat;
  columns?: readonly string[];
  tty: boolean;
  color: boolean;
  /** terminal width (TTY only) */
  width?: number;
}

export function cellText(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** Apply -c: keep the requested columns in the requested order. */
export function selectColumns(t: Table, wanted: readonly string[] | undefined): Table {
  if (!wanted || wanted.length === 0) return t;
  const cols: string[] = [];
  for (const w of wanted) {
    const hit = t.columns.find((c) => c.toLowerCase() === w.toLowerCase());
    if (!hit) throw new StethError('EINVAL', `no column '${w}'${t.title ? ` in ${t.title}` : ''}`, { hint: `columns: ${t.columns.join(', ')}` });
    cols.push(hit);
  }
  const out: Table = { columns: cols, rows: t.rows };
  if (t.title !== undefined) out.title = t.title;
  return out;
}

/**
 * -c over a multi-table result: tables having every requested column are cut to
 * them, tables having none of them are dropped; it is an error only when no
 * table has them (the error lists the first table's columns).
 */
export function applyColumns(tables: readonly Table[], wanted: readonly string[] | undefined): Table[] {
  if (!wanted || wanted.length === 0 || tables.length === 0) return [...tables];
  const has = (t: Table): boolean => wanted.every((w) => t.columns.some((c) => c.toLowerCase() === w.toLowerCase()));
  const hits = tables.filter(has);
  if (hits.length === 0) return [selectColumns(tables[0]!, wanted)]; // throws with the hint
  return hits.map((t) => selectColumns(t, wanted));
}

function bold(s: string, color: boolean): string {
  return color ? `\x1b[1m${s}\x1b[0m` : s;
}

function paint(s: string, ok: boolean, color: boolean): string {
  return color ? `${ok ? '\x1b[32m' : '\x1b[31m'}${s}\x1b[0m` : s;
}

function sanitize(s: string): string {
  return s.replace(/[\t\r\n]/g, ' ').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '?');
}

function renderTableTty(t: Table, o: RenderOptions): string {
  const maxCell = Math.max(20, Math.min(80, Math.floor((o.width ?? 120) / Math.max(1, t.columns.length)) * 2));
  const cut = (s: string): string => (s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s);
  const grid = t.rows.map((r) => t.columns.map((c) => cut(sanitize(cellText(r[c])))));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...grid.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const lines: string[] = [];
  if (t.title) lines.push(bold(t.title, o.color));
  lines.push(bold(line(t.columns.map((c) => c.toUpperCase())), o.color));
  for (const row of grid) lines.push(line(row));
  if (grid.length === 0) lines.push('(none)');
  return `${lines.join('\n')}\n`;
}

function renderTsv(t: Table): string {
  return t.rows.map((r) => `${t.columns.map((c) => sanitize(cellText(r[c]))).join('\t')}\n`).join('');
}

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function renderCsv(t: Table): string {
  const head = t.columns.map(csvField).join(',');
  return [head, ...t.rows.map((r) => t.columns.map((c) => csvField(cellText(r[c]))).join(','))].join('\r\n') + '\r\n';
}

function renderValue(t: Table): string {
  return t.rows.map((r) => `${t.columns.map((c) => sanitize(cellText(r[c]))).join(' ')}\n`).join('');
}

/** Render a result to the text that goes on stdout (and, for a piped table, a verdict for stderr). */
export function renderResult(r: CheckResult, o: RenderOptions): { stdout: string; stderr?: string } {
  const tables = applyColumns(r.tables, o.columns);
  switch (o.format) {
    case 'json':
      return { stdout: `${JSON.stringify({ ok: r.ok, verdict: r.verdict, data: r.data ?? null, tables }, jsonReplacer, 2)}\n` };
    case 'csv':
      return { stdout: tables[0] ? renderCsv(tables[0]) : '' };
    case 'value':
      return { stdout: tables[0] ? renderValue(tables[0]) : '' };
    case 'table':
    default:
      if (!o.tty) {
        const out: { stdout: string; stderr?: string } = { stdout: tables.map(renderTsv).join('') };
        if (r.verdict) out.stderr = `${r.verdict}\n`;
        return out;
      }
      return {
        stdout: [...tables.map((t) => renderTableTty(t, o)), r.verdict ? `${paint(r.verdict, r.ok, o.color)}\n` : ''].join(tables.length > 1 ? '\n' : ''),
      };
  }
}

export function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
