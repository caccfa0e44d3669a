/**
 * One long-lived `ip -json -details -batch -` for reads in this process's own network
 * namespace: each command is a line on its stdin, each answer one JSON array on its stdout
 * (ip flushes after every command). A netlink dump costs ~1 ms this way; a fork + exec of
 * `ip` per call costs the agent ~4 ms of blocked event loop for the fork alone and 5-10 ms
 * in all on a loaded node. Netlink is the only source that tells a veth peer in this
 * namespace from one in another with the same ifindex (sysfs cannot), so `ip` it stays.
 *
 * Only `addr show [dev NAME]` goes through it: ip's batch mode keeps filter state between
 * commands (iproute2 6.1: after `link show`, `addr show` prints no addr_info at all), and
 * repeated `addr show`, with or without `dev`, is what has been checked to answer each time
 * exactly as a one-shot `ip` does (test/unit/host/ipbatch.test.ts).
 *
 * Without -force, ip exits at the first command that fails; that (or a stuck or missing
 * ip) fails every pending read with EBATCH, and ipJson then runs the one-shot `ip`, which
 * reports the failure as the tool's own typed error. The batch process ends by itself on
 * EOF: after IDLE_MS without a read, or when this process exits (even when killed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StethError } from '../errors.js';
import { runJson } from './exec.js';
import { JsonTextSplitter } from './jsonstream.js';

const IDLE_MS = 30_000;
const ANSWER_MS = 5000;
/** what a batch line may carry: ip's own tokenizer splits on blanks and honours quotes, so none of those */
const SAFE_ARG = /^[A-Za-z0-9_.:@/+-]+$/;

/** `addr show` or `addr show dev NAME` (see above for why nothing else). */
function batchable(args: readonly string[]): boolean {
  if (args[0] !== 'addr' || args[1] !== 'show') return false;
  return args.length === 2 || (args.length === 4 && args[2] === 'dev' && SAFE_ARG.test(args[3]!));
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

class IpBatch {
  #child: ChildProcess | undefined;
  #splitter = new JsonTextSplitter();
  #pending: Pending[] = [];
  #idle: NodeJS.Timeout | undefined;
  #answer: NodeJS.Timeout | undefined;

  /** One command's JSON answer; rejects with EBATCH when the batch process cannot give it. */
  ask(args: readonly string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.#spawned();
      } catch (e) {
        return reject(e as Error);
      }
      this.#pending.push({ resolve, reject });
      this.#armAnswerTimer();
      child.stdin!.write(`${args.join(' ')}\n`);
    });
  }

  #spawned(): ChildProcess {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.#child) return this.#child;
    const child = spawn('ip', ['-json', '-details', '-batch', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.#child = child;
    this.#splitter = new JsonTextSplitter();
    // neither the child nor its pipes keep this process alive; a pending read's timer does
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (this.#child !== child) return; // one that was failed or ended: nobody waits on it
      let texts: string[];
      try {
        texts = this.#splitter.push(chunk);
      } catch (e) {
        return this.#fail(child, `ip -batch printed something that is not JSON: ${(e as Error).message}`);
      }
      for (const text of texts) {
        const p = this.#pending.shift();
        if (!p) return this.#fail(child, 'ip -batch printed an answer nobody asked for');
        try {
          p.resolve(JSON.parse(text));
        } catch {
          p.reject(batchError('ip -batch printed an answer that is not JSON'));
        }
      }
      this.#armAnswerTimer();
      if (this.#pending.length === 0) this.#idle = setTimeout(() => this.#end(child), IDLE_MS).unref();
    });
    child.stdin!.on('error', () => this.#fail(child, 'ip -batch stopped reading'));
    child.on('error', (e) => this.#fail(child, `ip -batch could not run: ${e.message}`));
    child.on('exit', (code, signal) => this.#fail(child, `ip -batch exited (${signal ?? `code ${code}`})`));
    return child;
  }

  #armAnswerTimer(): void {
    if (this.#answer) clearTimeout(this.#answer);
    this.#answer = undefined;
    const child = this.#child;
    if (child && this.#pending.length > 0) this.#answer = setTimeout(() => this.#fail(child, `ip -batch did not answer in ${ANSWER_MS} ms`), ANSWER_MS);
  }

  /** Close stdin: ip finishes the lines it has and exits. */
  #end(child: ChildProcess): void {
    if (this.#child !== child || this.#pending.length > 0) return;
    this.#child = undefined;
    child.stdin!.end();
  }

  #fail(child: ChildProcess, why: string): void {
    // one already failed (killed) or ended (stdin closed, exits by itself): the reads pending now are its successor's
    if (this.#child !== child) return;
    this.#child = undefined;
    if (this.#answer) clearTimeout(this.#answer);
    this.#answer = undefined;
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) p.reject(batchError(why));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // the ip we started, by its handle
  }
}

function batchError(message: string): StethError {
  return new StethError('ETOOL', message, { detail: { batch: true } });
}

let shared: IpBatch | undefined;

/**
 * `ip -json -details ARGS` in this process's network namespace: `addr show [dev NAME]`
 * through the shared batch process, anything else (or when it fails) a one-shot `ip`.
 */
export async function ipJson<T = unknown>(args: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<T> {
  if (batchable(args) && !opts.signal?.aborted) {
    shared ??= new IpBatch();
    try {
      return (await shared.ask(args)) as T;
    } catch {
      // the one-shot ip below says what is wrong, in its own words
    }
  }
  return await runJson<T>('ip', ['-json', '-details', ...args], { timeoutMs: 10_000, ...(opts.signal ? { signal: opts.signal } : {}) });
}
