/**
 * Run the steth CLI in-process: `runCli(argv, io)` → exit code. Commander is set
 * up with exitOverride() and configureOutput() so nothing calls process.exit and
 * all text goes to the given streams (tests pass fake ones). `main()` is the
 * real entry: SIGINT handling, flush, exit.
 */
import { CommanderError } from '@commander-js/extra-typings';
import type { Command } from '@commander-js/extra-typings';
import { buildProgram } from './program.js';
import { StreamOutput, type Sink } from './output.js';
import { needsConfig, type CliContext, type Format, type GlobalOptions } from './context.js';
import type { Config } from '../config/types.js';
import type { FanOutOptions } from '../rpc/client.js';
import { StethError } from '../errors.js';
import { EXIT } from '../report/model.js';

export interface CliIO {
  stdout: Sink;
  stderr: Sink;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface CliRun {
  code: number;
  ctx: CliContext;
}

/** Lightweight pre-scan of argv for the output format (so usage errors respect -f json). */
function scanFormat(argv: readonly string[]): Format {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    let v: string | undefined;
    if (a === '-f' || a === '--format') v = argv[i + 1];
    else if (a.startsWith('--format=')) v = a.slice(9);
    else if (a.startsWith('-f') && a.length > 2) v = a.slice(2);
    if (v === 'json' || v === 'csv' || v === 'value' || v === 'table') return v;
  }
  return 'table';
}

/** What a command's agent access needs, loaded with the config (see createContext). */
interface Modules {
  loadConfig: typeof import('../config/load.js').loadConfig;
  findAgent: typeof import('../config/load.js').findAgent;
  AgentClient: typeof import('../rpc/client.js').AgentClient;
  fanOut: typeof import('../rpc/client.js').fanOut;
}

async function loadModules(): Promise<Modules> {
  const [{ loadConfig, findAgent }, { AgentClient, fanOut }] = await Promise.all([import('../config/load.js'), import('../rpc/client.js')]);
  return { loadConfig, findAgent, AgentClient, fanOut };
}

export function createContext(io: CliIO, getProgram: () => Command): { ctx: CliContext; out: StreamOutput } {
  const env = io.env ?? process.env;
  const out = new StreamOutput({ stdout: io.stdout, stderr: io.stderr, format: 'table', columns: [], env });
  let configP: Promise<Config> | undefined;
  let loaded: Config | undefined;
  let loadError: unknown;
  // the config reader and the RPC client are loaded with the config, not at start:
  // --help, usage errors and agent-less commands never pay for them (ctx.client()
  // and ctx.agent() already require `await ctx.config()` first)
  let mods: Modules | undefined;
  const globals = (): GlobalOptions => {
    const o = getProgram().opts() as Partial<GlobalOptions>;
    const g: GlobalOptions = { format: (o.format as Format | undefined) ?? 'table', column: o.column ?? [] };
    if (o.config !== undefined) g.config = o.config;
    if (o.token !== undefined) g.token = o.token;
    if (o.timeout !== undefined) g.timeout = o.timeout;
    if (o.concurrency !== undefined) g.concurrency = o.concurrency;
    return g;
  };
  const config = (): Promise<Config> => {
    configP ??= (async () => {
      const g = globals();
      const m = (mods ??= await loadModules());
      const cfg = await m.loadConfig({ ...(g.config !== undefined ? { path: g.config } : {}), env });
      if (g.token !== undefined) cfg.token = g.token;
      if (g.timeout !== undefined) cfg.timeoutMs = Math.round(g.timeout * 1000);
      if (g.concurrency !== undefined) cfg.concurrency = g.concurrency;
      loaded = cfg;
      return cfg;
    })();
    configP.catch((e: unknown) => {
      loadError = e;
    });
    return configP;
  };
  const requireLoaded = (): { cfg: Config; m: Modules } => {
    if (!loaded && loadError !== undefined) throw loadError;
    if (!loaded || !mods) throw new StethError('ECONFIG', 'config not loaded yet (internal: await ctx.config() first)');
    return { cfg: loaded, m: mods };
  };
  const ctx: CliContext = {
    config,
    agent: (name) => {
      const { cfg, m } = requireLoaded();
      return m.findAgent(cfg, name);
    },
    client: (name) => {
      const { cfg, m } = requireLoaded();
      if (/^https?:\/\//.test(name)) {
        return new m.AgentClient({ name, url: name, timeoutMs: cfg.timeoutMs, ...(cfg.token !== undefined ? { token: cfg.token } : {}) });
      }
      const a = m.findAgent(cfg, name);
      const token = a.token ?? cfg.token;
      return new m.AgentClient({ name: a.name, url: a.url, timeoutMs: cfg.timeoutMs, ...(token !== undefined ? { token } : {}) });
    },
    fanOut: async (items, fn, opts: FanOutOptions = {}) => {
      const cfg = loaded ?? (await config());
      const m = (mods ??= await loadModules());
      return await m.fanOut(items, fn, { concurrency: cfg.concurrency, perItemTimeoutMs: cfg.timeoutMs + 1000, signal: ctx.signal, ...opts });
    },
    out,
    signal: io.signal ?? new AbortController().signal,
    globals,
    env,
  };
  return { ctx, out };
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<CliRun> {
  let program!: Command;
  const { ctx, out } = createContext(io, () => program);
  out.format = scanFormat(argv);
  program = await buildProgram(ctx, argv);
  const writeOut = (s: string): void => void io.stdout.write(s);
  const writeErr = (s: string): void => void io.stderr.write(s);
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut,
      writeErr: (s) => {
        // in JSON mode usage errors are rendered by out.error() on stdout instead
        if (out.format !== 'json') writeErr(s);
      },
      outputError: (s, write) => {
        if (out.format !== 'json') write(s);
      },
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
    });
    for (const sub of cmd.commands as Command[]) configure(sub);
  };
  configure(program);
  let working: { stop(): void } | undefined;
  program.hook('preAction', async (_root, action) => {
    const g = ctx.globals();
    out.format = g.format;
    out.columns = g.column;
    // a spinner on a TTY if the command takes over ~1 s (replaced by a command's own)
    working = out.progress(`${action.name()}…`);
    // load config for commands that use agents; a missing default file is fine here
    // (ctx.config() throws at first use if the file is bad)
    if (needsConfig(action)) {
      try {
        await ctx.config();
      } catch {
        // reported when a command actually uses it
      }
    }
  });
  program.hook('postAction', () => working?.stop());
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    working?.stop();
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return { code: 0, ctx };
      }
      if (out.format === 'json') out.error(err);
      else out.bump(EXIT.USAGE);
      out.flush();
      return { code: out.exitCode, ctx };
    }
    out.error(err);
  }
  if (ctx.signal.aborted) out.bump(EXIT.SIGINT);
  out.flush();
  return { code: out.exitCode, ctx };
}

/** The real process entry (bin/steth). */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.SIGINT);
    ac.abort(new StethError('ECANCELED', 'interrupted'));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // a stray rejection (a probe forgot an await) ends the run with a message, not a stack dump and exit 0
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`steth: internal error (unhandled rejection): ${e instanceof Error ? (process.env.STETH_DEBUG ? (e.stack ?? e.message) : e.message) : String(e)}\n`);
    process.exitCode = EXIT.FAULT;
  });
  let code: number;
  try {
    code = (await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: ac.signal })).code;
  } catch (err) {
    process.stderr.write(`steth: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = EXIT.FAULT;
  }
  if (ac.signal.aborted) code = EXIT.SIGINT;
  // flush stdout before exiting (pipes are async)
  process.stdout.write('', () => process.exit(code));
}
