/**
 * The CLI side of the wire: one AgentClient per agent, JSON-RPC 2.0 over HTTP(S)
 * POST with a Bearer token, a deadline per call (sent to the agent as the
 * `X-Steth-Deadline-Ms` header so it can give up too), cancellation through an
 * AbortSignal (the agent is told with `$/cancelRequest`), and results validated
 * against the method's schema.
 *
 * Errors a caller sees:
 *  - RpcError: the agent answered with a JSON-RPC error (code, message, data {code, hint});
 *  - StethError EAGENT: unreachable, HTTP error (401 = wrong token), garbage answer,
 *    result not matching the schema;
 *  - StethError ETIMEDOUT / ECANCELED: our deadline passed / our signal fired.
 */
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { StethError } from '../errors.js';
import type { MethodSpec } from './method.js';
import { RpcError, type RpcErrorData } from './errors.js';

export { RpcError, type RpcErrorData } from './errors.js';

export interface AgentClientOptions {
  /** agent name (for messages) */
  name: string;
  /** http(s)://host:port[/path] — a bare host:port gets http:// */
  url: string;
  token?: string;
  /** default deadline per call (ms), default 30 s */
  timeoutMs?: number;
  /** accept a self-signed agent certificate (https) */
  insecureTls?: boolean;
  /** CA to verify the agent certificate with (PEM) */
  ca?: string | Buffer;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

const keepAliveHttp = new http.Agent({ keepAlive: true, maxSockets: 32 });
const keepAliveHttps = new https.Agent({ keepAlive: true, maxSockets: 32 });
const MAX_RESPONSE = 64 * 1024 * 1024;
const idPrefix = randomBytes(4).toString('hex');
let idCounter = 0;

export class AgentClient {
  readonly name: string;
  readonly url: URL;
  readonly timeoutMs: number;
  readonly #token: string | undefined;
  readonly #tls: https.RequestOptions;

  constructor(opts: AgentClientOptions) {
    this.name = opts.name;
    const raw = /^[a-z]+:\/\//i.test(opts.url) ? opts.url : `http://${opts.url}`;
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new StethError('ECONFIG', `agent ${opts.name}: '${opts.url}' is not a URL`, { hint: 'expected http://HOST:9698' });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new StethError('ECONFIG', `agent ${opts.name}: unsupported URL scheme ${u.protocol}`);
    this.url = u;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.#token = opts.token;
    this.#tls = {};
    if (opts.insecureTls) this.#tls.rejectUnauthorized = false;
    if (opts.ca !== undefined) this.#tls.ca = opts.ca;
  }

  /** Call a declared method: params are checked locally first, the result is validated. */
  async call<P extends z.ZodTypeAny, R extends z.ZodTypeAny>(spec: MethodSpec<P, R>, params: z.input<P>, opts: CallOptions = {}): Promise<z.output<R>> {
    const p = spec.params.safeParse(params);
    if (!p.success) {
      throw new StethError('EINVAL', `invalid parameters for ${spec.name}: ${p.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
    }
    const timeoutMs = opts.timeoutMs ?? Math.max(this.timeoutMs, spec.defaultTimeoutMs ?? 0);
    const raw = await this.callRaw(spec.name, p.data, { ...opts, timeoutMs });
    const r = spec.result.safeParse(raw);
    if (!r.success) {
      throw new StethError('EAGENT', `agent ${this.name} answered ${spec.name} with an unexpected result`, {
        hint: 'agent and CLI versions differ?',
        detail: r.error.issues.slice(0, 5),
      });
    }
    return r.data;
  }

  /** Call a method by name with untyped params; returns the raw result. */
  async callRaw(method: string, params?: unknown, opts: CallOptions = {}): Promise<unknown> {
    const id = `${idPrefix}-${++idCounter}`;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    let res: { status: number; body: string };
    try {
      res = await this.#post(body, timeoutMs, opts.signal);
    } catch (err) {
      if (err instanceof StethError && (err.code === 'ETIMEDOUT' || err.code === 'ECANCELED')) {
        // tell the agent to stop working on it (best effort, short deadline)
        void this.notify('$/cancelRequest', { id }).catch(() => undefined);
      }
      throw err;
    }
    return this.#unwrap(res, method);
  }

  /** Send a notification (no answer expected). */
  async notify(method: string, params?: unknown): Promise<void> {
    const body = JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
    await this.#post(body, 2000, undefined);
  }

  /** POST a raw body; for tests and compat clients. */
  async postRaw(body: string, opts: { timeoutMs?: number; signal?: AbortSignal; path?: string } = {}): Promise<{ status: number; body: string }> {
    return await this.#post(body, opts.timeoutMs ?? this.timeoutMs, opts.signal, opts.path);
  }

  #unwrap(res: { status: number; body: string }, method: string): unknown {
    if (res.status === 401) {
      throw new StethError('EAGENT', `agent ${this.name} refused the request (401): missing or wrong token`, { hint: 'set token / token_file in steth.conf or STETH_TOKEN to the agent token' });
    }
    let msg: unknown;
    try {
      msg = JSON.parse(res.body);
    } catch {
      throw new StethError('EAGENT', `agent ${this.name} answered ${method} with HTTP ${res.status} and no JSON`, { detail: res.body.slice(0, 200) });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      throw new StethError('EAGENT', `agent ${this.name} answered ${method} with a malformed JSON-RPC response`);
    }
    const m = msg as { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
    if (m.error !== undefined && m.error !== null) {
      const code = typeof m.error.code === 'number' ? m.error.code : -32603;
      const message = typeof m.error.message === 'string' ? m.error.message : 'unknown error';
      const data = typeof m.error.data === 'object' && m.error.data !== null ? (m.error.data as RpcErrorData) : undefined;
      throw new RpcError(code, message, data, this.name);
    }
    if (!('result' in m)) throw new StethError('EAGENT', `agent ${this.name} answered ${method} without a result`);
    return m.result;
  }

  #post(body: string, timeoutMs: number, signal: AbortSignal | undefined, path?: string): Promise<{ status: number; body: string }> {
    const u = this.url;
    const isHttps = u.protocol === 'https:';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-steth-deadline-ms': String(Math.max(1, Math.floor(timeoutMs))),
    };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new StethError('ECANCELED', `call to agent ${this.name} cancelled`));
      let done = false;
      const finish = (err: Error | null, value?: { status: number; body: string }): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value!);
      };
      const opts: https.RequestOptions = {
        method: 'POST',
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || (isHttps ? 443 : 80),
        path: path ?? (u.pathname === '' ? '/' : u.pathname),
        headers,
        agent: isHttps ? keepAliveHttps : keepAliveHttp,
        ...(isHttps ? this.#tls : {}),
      };
      const req = (isHttps ? https : http).request(opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE) {
            req.destroy();
            finish(new StethError('EAGENT', `agent ${this.name} sent more than ${MAX_RESPONSE} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => finish(transportError(this.name, u, e)));
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(new StethError('ETIMEDOUT', `agent ${this.name} did not answer within ${timeoutMs} ms`, { hint: 'raise --timeout, or check the agent and the network path' }));
      }, timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        finish(new StethError('ECANCELED', `call to agent ${this.name} cancelled`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => finish(transportError(this.name, u, e)));
      req.end(body);
    });
  }
}

function transportError(name: string, u: URL, e: Error): StethError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const where = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
  const hint =
    code === 'ECONNREFUSED'
      ? 'is steth-agent running there? (systemctl status steth-agent)'
      : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT'
        ? 'check routing / firewall to the agent'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'the agent host name does not resolve'
          : undefined;
  return new StethError('EAGENT', `agent ${name} unreachable at ${where}: ${code || e.message}`, hint === undefined ? { cause: e } : { hint, cause: e });
}

export interface FanOutOptions {
  /** at most this many calls in flight (default 16) */
  concurrency?: number;
  /** each item's fn gets a signal that fires after this (default none) */
  perItemTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface FanOutResult<T, V> {
  item: T;
  ok: boolean;
  value?: V;
  error?: unknown;
}

/**
 * Run fn over items with a concurrency limit; never rejects: each item gets
 * {ok, value} or {ok: false, error}. Order of results = order of items.
 */
export async function fanOut<T, V>(
  items: readonly T[],
  fn: (item: T, signal: AbortSignal) => Promise<V>,
  opts: FanOutOptions = {},
): Promise<Array<FanOutResult<T, V>>> {
  const limit = Math.max(1, opts.concurrency ?? 16);
  const out: Array<FanOutResult<T, V>> = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const item = items[i]!;
      const signals: AbortSignal[] = [];
      if (opts.signal) signals.push(opts.signal);
      if (opts.perItemTimeoutMs !== undefined) signals.push(AbortSignal.timeout(opts.perItemTimeoutMs));
      const signal = signals.length === 0 ? new AbortController().signal : signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
      try {
        if (signal.aborted) throw new StethError('ECANCELED', 'cancelled before it started');
        const value = await fn(item, signal);
        out[i] = { item, ok: true, value };
      } catch (error) {
        out[i] = { item, ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return out;
}
