/**
 * steth-agent: parse flags + config, undo what a crashed run left, serve
 * JSON-RPC until SIGTERM/SIGINT, then undo every lease and exit.
 */
import { readFileSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Command, Option, InvalidArgumentError } from '@commander-js/extra-typings';
import { StethError } from '../src/errors.js';
import { assertPort } from '../src/validate.js';
import { parseIni, configError, type IniFile } from '../src/config/ini.js';
import { assertOvsdb } from '../src/host/ovs.js';
import { Ledger } from './ledger.js';
import { Dispatcher } from './dispatcher.js';
import { AgentServer } from './server.js';
import { methods } from './methods.js';
import { setRuntime } from './context.js';
import { makeLogger, type Level } from './log.js';
import type { AgentContext } from '../src/rpc/method.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentSettings {
  listen: string;
  port: number;
  token?: string;
  insecure: boolean;
  ovsdb?: string;
  nodeName: string;
  stateDir: string;
  tls?: { cert: Buffer; key: Buffer };
  maxConcurrent: number;
  logLevel: Level;
}

function parsePort(v: string): number {
  try {
    return v === '0' ? 0 : assertPort(v);
  } catch {
    throw new InvalidArgumentError(`'${v}' is not a port (1..65535)`);
  }
}

export function agentProgram(): Command<[], { config?: string; listen?: string; port?: number; tokenFile?: string; insecure?: boolean; ovsdb?: string; nodeName?: string; stateDir?: string; tlsCert?: string; tlsKey?: string; maxConcurrent?: number; logLevel?: string }> {
  return new Command('steth-agent')
    .description('steth agent: JSON-RPC 2.0 over HTTP on port 9698 (paths / and /RPC2). Every host change is leased and undone on expiry, on shutdown and after a crash.')
    .version(AGENT_VERSION, '-V, --version')
    .option('--config <file>', 'steth.conf ([steth_agent] section, DEFAULT token/token_file/port); default /etc/steth/steth.conf if it exists')
    .option('--listen <addr>', 'bind address (default 0.0.0.0; a non-loopback address needs a token or --insecure)')
    .addOption(new Option('--port <port>', 'TCP port (default 9698)').argParser(parsePort))
    .option('--token-file <file>', 'file holding the Bearer token (else STETH_TOKEN, else config token / token_file)')
    .option('--insecure', 'allow a non-loopback listen address without a token')
    .option('--ovsdb <remote>', 'OVSDB remote for ovs-vsctl (unix:/path/db.sock)')
    .option('--node-name <name>', 'node name reported by agent.hello (default: hostname)')
    .option('--state-dir <dir>', 'ledger state directory (default /var/lib/steth-agent)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'private key for --tls-cert (PEM)')
    .addOption(new Option('--max-concurrent <n>', 'handlers running at once (default 32)').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
      return n;
    }))
    .addOption(new Option('--log-level <level>', 'debug|info|warn|error').choices(['debug', 'info', 'warn', 'error']))
    .addHelpText('after', '\nEnvironment: STETH_TOKEN (Bearer token), STETH_CONFIG (config file).\nExample: steth-agent --listen 10.0.0.5 --token-file /etc/steth/token');
}

export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || /^127\.\d+\.\d+\.\d+$/.test(addr) || addr === '::ffff:127.0.0.1';
}

function readSecretFile(path: string, what: string): string {
  let t: string;
  try {
    t = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new StethError('ECONFIG', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (t === '') throw new StethError('ECONFIG', `${what} ${path} is empty`);
  return t;
}

/** Flags > env > config > defaults. */
export function resolveSettings(opts: ReturnType<ReturnType<typeof agentProgram>['opts']>, env: NodeJS.ProcessEnv): AgentSettings {
  const cfgPath = opts.config ?? env.STETH_CONFIG ?? (existsSync('/etc/steth/steth.conf') ? '/etc/steth/steth.conf' : undefined);
  let ini: IniFile | undefined;
  if (cfgPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(cfgPath, 'utf8');
    } catch (e) {
      throw new StethError('ECONFIG', `cannot read config ${cfgPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    ini = parseIni(text, cfgPath);
  }
  const sec = ini?.sections.get('steth_agent')?.entries;
  const def = ini?.sections.get('DEFAULT')?.entries;
  const get = (k: string): { value: string; line: number } | undefined => sec?.get(k) ?? def?.get(k);

  let token: string | undefined;
  if (opts.tokenFile !== undefined) token = readSecretFile(opts.tokenFile, 'token file');
  else if (env.STETH_TOKEN !== undefined && env.STETH_TOKEN !== '') token = env.STETH_TOKEN;
  else if (get('token_file') !== undefined) token = readSecretFile(get('token_file')!.value, 'token_file');
  else if (get('token') !== undefined && get('token')!.value !== '') token = get('token')!.value;

  let port = opts.port;
  if (port === undefined && get('port') !== undefined) {
    const v = get('port')!;
    try {
      port = assertPort(v.value);
    } catch {
      throw configError(ini!, v, 'port', `'${v.value}' is not a port`);
    }
  }
  const listen = opts.listen ?? get('listen')?.value ?? '0.0.0.0';
  const bool = (k: string): boolean => /^(1|true|yes|on)$/i.test(get(k)?.value ?? '');
  const insecure = opts.insecure === true || bool('insecure');
  if (token === undefined && !isLoopback(listen) && !insecure) {
    throw new StethError('ECONFIG', `refusing to listen on ${listen} without a token`, {
      hint: 'give --token-file FILE (or STETH_TOKEN), listen on 127.0.0.1, or pass --insecure to accept unauthenticated root RPC',
    });
  }
  const ovsdb = opts.ovsdb ?? get('ovsdb')?.value;
  if (ovsdb !== undefined) assertOvsdb(ovsdb);
  const certPath = opts.tlsCert ?? get('tls_cert')?.value;
  const keyPath = opts.tlsKey ?? get('tls_key')?.value;
  if ((certPath === undefined) !== (keyPath === undefined)) throw new StethError('ECONFIG', '--tls-cert and --tls-key go together');
  const s: AgentSettings = {
    listen,
    port: port ?? 9698,
    insecure,
    nodeName: opts.nodeName ?? get('node_name')?.value ?? os.hostname(),
    stateDir: opts.stateDir ?? get('state_dir')?.value ?? '/var/lib/steth-agent',
    maxConcurrent: opts.maxConcurrent ?? 32,
    logLevel: (opts.logLevel ?? get('log_level')?.value ?? env.STETH_LOG_LEVEL ?? 'info') as Level,
  };
  if (token !== undefined) s.token = token;
  if (ovsdb !== undefined) s.ovsdb = ovsdb;
  if (certPath !== undefined && keyPath !== undefined) s.tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  return s;
}

/** Refuse to share a state dir with a live agent; take it over from a dead one. */
function lockStateDir(dir: string): () => void {
  const pidFile = join(dir, 'agent.pid');
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      let alive = false;
      try {
        alive = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('steth-agent');
      } catch {
        alive = false;
      }
      if (alive) throw new StethError('EBUSY', `another steth-agent (PID ${pid}) uses state dir ${dir}`, { hint: 'give each agent its own --state-dir' });
    }
  } catch (e) {
    if (e instanceof StethError) throw e;
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
    } catch {
      // gone
    }
  };
}

/**
 * After a burst of requests, once the agent has been idle for 2 s, run one full
 * GC so idle RSS goes back down (V8 otherwise keeps the garbage until the next
 * allocation pressure). The agent is idle almost all of its life.
 */
function idleCollector(d: Dispatcher): NodeJS.Timeout {
  let gc: (() => void) | undefined;
  try {
    v8.setFlagsFromString('--expose-gc');
    const raw = vm.runInNewContext('gc') as (opts?: { type: string; execution: string; flavor?: string }) => void;
    // 'last-resort' = V8's CollectAllAvailableGarbage: also shrinks new space and returns pages
    gc = () => raw({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } catch {
    gc = undefined;
  }
  let collectedAt = -1;
  const t = setInterval(() => {
    if (!gc || d.running > 0 || d.handled === collectedAt || Date.now() - d.lastActivity < 2000) return;
    collectedAt = d.handled;
    gc();
  }, 1000);
  t.unref();
  gc?.();
  return t;
}

export interface RunningAgent {
  url: string;
  ledger: Ledger;
  dispatcher: Dispatcher;
  server: AgentServer;
  stop(): Promise<void>;
}

export async function startAgent(s: AgentSettings, log = makeLogger(s.logLevel)): Promise<RunningAgent> {
  const ledger = new Ledger({ stateDir: s.stateDir, log });
  const unlock = lockStateDir(s.stateDir);
  const recovered = await ledger.recover();
  if (recovered.length) log('info', 'recovered from a previous run', { undone: recovered.length, failed: recovered.filter((r) => !r.ok).length });
  ledger.start();
  const dispatcher = new Dispatcher(methods, {
    log,
    maxConcurrent: s.maxConcurrent,
    context: (signal, method): AgentContext => ({
      signal,
      nodeName: s.nodeName,
      ovsdb: s.ovsdb,
      ledger,
      log: (level, msg, fields) => log(level, msg, { method, ...fields }),
    }),
  });
  setRuntime({
    version: AGENT_VERSION,
    nodeName: s.nodeName,
    ovsdb: s.ovsdb,
    startedAt: Date.now(),
    capabilities: dispatcher.methodNames,
    listen: s.listen,
    port: s.port,
    tls: s.tls !== undefined,
    authRequired: s.token !== undefined,
  });
  const server = new AgentServer({ dispatcher, log, listen: s.listen, port: s.port, ...(s.token !== undefined ? { token: s.token } : {}), ...(s.tls ? { tls: s.tls } : {}) });
  let addr;
  try {
    addr = await server.start();
  } catch (e) {
    ledger.stop();
    unlock();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StethError('EBUSY', `port ${s.port} on ${s.listen} is already in use`, { hint: 'another steth-agent running? use --port' });
    if (code === 'EADDRNOTAVAIL') throw new StethError('ECONFIG', `cannot listen on ${s.listen}: no such local address`);
    if (code === 'EACCES') throw new StethError('EPERM', `not allowed to listen on port ${s.port}`);
    throw e;
  }
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${s.tls ? 'https' : 'http'}://${host}:${addr.port}`;
  setRuntime({ port: addr.port });
  log('info', 'listening', { url, nodeName: s.nodeName, auth: s.token !== undefined, tls: s.tls !== undefined, methods: dispatcher.methodNames.length, ovsdb: s.ovsdb ?? null, stateDir: s.stateDir });
  const idle = idleCollector(dispatcher);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log('info', 'stopping');
      clearInterval(idle);
      dispatcher.abortAll();
      await server.close();
      ledger.stop();
      const undone = await ledger.releaseAll();
      if (undone.length) log('info', 'released leases on shutdown', { undone: undone.length, failed: undone.filter((r) => !r.ok).length });
      unlock();
    })());
  return { url, ledger, dispatcher, server, stop };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const program = agentProgram();
  program.exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    process.exitCode = code === 0 ? 0 : 2;
    return;
  }
  let agent: RunningAgent;
  try {
    const s = resolveSettings(program.opts(), env);
    agent = await startAgent(s);
  } catch (e) {
    if (e instanceof StethError) {
      process.stderr.write(`steth-agent: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`);
      process.exitCode = e.code === 'EPERM' ? 3 : 2;
      return;
    }
    throw e;
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    void agent.stop().then(() => {
      process.exitCode = sig === 'SIGINT' ? 130 : 0;
      setTimeout(() => process.exit(), 50).unref();
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.on('uncaughtException', (e) => {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'uncaught exception', error: e.stack ?? String(e) })}\n`);
  });
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'unhandled rejection', error: e instanceof Error ? (e.stack ?? e.message) : String(e) })}\n`);
  });
}
