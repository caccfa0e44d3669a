/**
 * Output: the only writer of stdout/stderr for commands. Renders CheckResults
 * (src/report/render.ts), errors (JSON mode: {error:{code,message,detail}} on
 * stdout so it stays valid JSON), a spinner on a TTY for anything over ~1 s,
 * and tracks the exit code (worst seen).
 */
import { renderResult, jsonReplacer, type RenderFormat } from '../report/render.js';
import type { CheckResult } from '../report/model.js';
import { EXIT } from '../report/model.js';
import type { Format, Output, Progress } from './context.js';
import { describeError } from './errors.js';

export interface Sink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface OutputOptions {
  stdout: Sink;
  stderr: Sink;
  format: Format;
  columns: readonly string[];
  env: NodeJS.ProcessEnv;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class StreamOutput implements Output {
  format: Format;
  columns: readonly string[];
  #exit = 0;
  #emitted = 0;
  readonly #o: OutputOptions;
  #spinners = new Set<{ stop(): void }>();
  /** -f json: results and the error are written once, at flush(), as one document */
  #jsonResults: unknown[] = [];
  #jsonError: unknown;

  constructor(o: OutputOptions) {
    this.#o = o;
    this.format = o.format;
    this.columns = o.columns;
  }

  get exitCode(): number {
    return this.#exit;
  }

  /** raise the exit code (never lower: 130 > 4 > 3 > 2 > 1 in severity order of the list) */
  bump(code: number): void {
    const rank = (c: number): number => [0, 1, 2, 3, 4, 130].indexOf(c);
    if (rank(code) > rank(this.#exit)) this.#exit = code;
  }

  get color(): boolean {
    const env = this.#o.env;
    if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
    if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
    return this.#o.stdout.isTTY === true && env.TERM !== 'dumb';
  }

  emit(result: CheckResult): void {
    this.#stopSpinners();
    if (this.format === 'json') {
      this.#jsonResults.push(JSON.parse(renderResult(result, { format: 'json', columns: this.columns, tty: false, color: false }).stdout));
      this.#emitted++;
      this.bump(result.exitCode ?? (result.ok ? EXIT.OK : EXIT.FAULT));
      return;
    }
    const r = renderResult(result, {
      format: this.format as RenderFormat,
      columns: this.columns,
      tty: this.#o.stdout.isTTY === true,
      color: this.color,
      width: this.#o.stdout.columns ?? 120,
    });
    this.#o.stdout.write(r.stdout);
    if (r.stderr) this.#o.stderr.write(r.stderr);
    this.#emitted++;
    this.bump(result.exitCode ?? (result.ok ? EXIT.OK : EXIT.FAULT));
  }

  error(err: unknown): void {
    this.#stopSpinners();
    const info = describeError(err);
    this.bump(info.exitCode);
    if (info.exitCode === 0) return;
    if (this.format === 'json') {
      const detail: Record<string, unknown> = {};
      if (info.hint !== undefined) detail.hint = info.hint;
      if (info.detail !== undefined) {
        if (typeof info.detail === 'object' && info.detail !== null && !Array.isArray(info.detail)) Object.assign(detail, info.detail);
        else detail.detail = info.detail;
      }
      this.#jsonError = { code: info.code, message: info.message, detail: Object.keys(detail).length ? detail : null };
      return;
    }
    const red = (s: string): string => (this.#o.stderr.isTTY && this.color ? `\x1b[31m${s}\x1b[0m` : s);
    this.#o.stderr.write(`${red('steth: error:')} ${info.message}\n${info.hint ? `  hint: ${info.hint}\n` : ''}`);
  }

  /**
   * Write what JSON mode collected as ONE document: a single result as
   * {ok, verdict, data, tables}; only an error as {error}; otherwise
   * {results: [...], error?}. No-op in the other formats.
   */
  flush(): void {
    if (this.format !== 'json') return;
    const results = this.#jsonResults;
    const error = this.#jsonError;
    this.#jsonResults = [];
    this.#jsonError = undefined;
    let doc: unknown;
    if (results.length === 0 && error === undefined) return;
    if (results.length === 1 && error === undefined) doc = results[0];
    else if (results.length === 0) doc = { error };
    else doc = error === undefined ? { results } : { results, error };
    this.#o.stdout.write(`${JSON.stringify(doc, jsonReplacer, 2)}\n`);
  }

  note(text: string): void {
    this.#o.stderr.write(`${text}\n`);
  }

  progress(text: string): Progress {
    // one spinner line at a time: a new one replaces the previous (e.g. the runner's default)
    this.#stopSpinners();
    const err = this.#o.stderr;
    if (!err.isTTY || this.format !== 'table' || this.#o.env.CI) return { update: () => undefined, stop: () => undefined };
    let label = text;
    let frame = 0;
    let shown = false;
    let interval: NodeJS.Timeout | undefined;
    const draw = (): void => {
      shown = true;
      err.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}`);
    };
    const start = setTimeout(() => {
      draw();
      interval = setInterval(draw, 100);
      interval.unref();
    }, 1000);
    start.unref();
    const p = {
      update: (t: string): void => {
        label = t;
      },
      stop: (): void => {
        clearTimeout(start);
        if (interval) clearInterval(interval);
        if (shown) err.write('\r\x1b[2K');
        shown = false;
        this.#spinners.delete(p);
      },
    };
    this.#spinners.add(p);
    return p;
  }

  #stopSpinners(): void {
    for (const s of [...this.#spinners]) s.stop();
  }
}
