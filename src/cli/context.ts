/**
 * What every command's `register(program, ctx)` gets. Commands never touch
 * process.stdout / process.exit: they build a CheckResult and `ctx.out.emit()` it,
 * or throw (the program's exit handler maps the error to an exit code and renders
 * it through `ctx.out.error()`). Tests build a CliContext with fake streams
 * (src/cli/run.ts `runCli(argv, {stdout, stderr, env})`).
 */
import type { Command, CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Config, AgentEntry } from '../config/types.js';
import type { AgentClient, FanOutOptions, FanOutResult } from '../rpc/client.js';
import type { CheckResult } from '../report/model.js';

export type Format = 'table' | 'json' | 'value' | 'csv';
export const FORMATS: readonly Format[] = ['table', 'json', 'value', 'csv'];

export interface Progress {
  /** replace the progress text */
  update(text: string): void;
  /** remove the spinner (idempotent) */
  stop(): void;
}

export interface Output {
  readonly format: Format;
  /** -c COLUMN (repeatable): only these columns */
  readonly columns: readonly string[];
  /** render a result; the exit code becomes the worst seen so far */
  emit(result: CheckResult): void;
  /** render an error (JSON mode: {error:{code,message,detail}} on stdout) and set the exit code */
  error(err: unknown): void;
  /** a spinner on a TTY after ~1 s (never in json/csv/value mode or when piped) */
  progress(text: string): Progress;
  /** a diagnostic line on stderr (never on stdout) */
  note(text: string): void;
  /** exit code derived from everything emitted so far */
  readonly exitCode: number;
}

export interface GlobalOptions {
  config?: string;
  format: Format;
  column: string[];
  token?: string;
  timeout?: number;
  concurrency?: number;
}

export interface CliContext {
  /** the loaded config (cached; a bad or missing file throws ECONFIG here, not at start) */
  config(): Promise<Config>;
  /** client for a configured agent by name (or a literal http://host:port URL) */
  client(agentName: string): AgentClient;
  /** resolve an agent entry by name; throws ENOENT listing known names */
  agent(agentName: string): AgentEntry;
  /** run fn for each agent with the configured concurrency and per-agent deadline */
  fanOut<T, V>(items: readonly T[], fn: (item: T, signal: AbortSignal) => Promise<V>, opts?: FanOutOptions): Promise<Array<FanOutResult<T, V>>>;
  out: Output;
  /** aborted on SIGINT / SIGTERM */
  signal: AbortSignal;
  /** global options after parsing */
  globals(): GlobalOptions;
  env: NodeJS.ProcessEnv;
}

/** What each command module exports. */
export type Register = (program: Command, ctx: CliContext) => void;

const NO_CONFIG = Symbol('steth.withoutConfig');

/**
 * Mark a command (or a group: its subcommands too) that never reads steth.conf or
 * calls an agent, so the pre-action hook does not load the config reader and the
 * RPC client for it (help, decode, lab, doctor/demo, which loads its own).
 */
export function withoutConfig<C extends CommandUnknownOpts>(cmd: C): C {
  (cmd as unknown as Record<symbol, boolean>)[NO_CONFIG] = true;
  return cmd;
}

export function needsConfig(cmd: CommandUnknownOpts): boolean {
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) {
    if ((c as unknown as Record<symbol, boolean>)[NO_CONFIG]) return false;
  }
  return true;
}
