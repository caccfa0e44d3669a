/**
 * JSON-RPC 2.0 dispatch without sockets: `dispatch(body)` takes the raw request
 * text and returns the response object (or array, or null when nothing is to be
 * answered: notifications only). Everything a request can get wrong maps to the
 * spec's codes before any handler runs:
 *   -32700 parse error, -32600 invalid request, -32601 method not found,
 *   -32602 invalid params (data.issues lists every zod issue), -32603 internal.
 * Domain errors (StethError, PcapError, WireError) map to DOMAIN_ERROR codes with
 * data {code, hint}. Each request gets a deadline (X-Steth-Deadline-Ms from the
 * caller, the method's default, capped by the agent's maximum) and an AbortSignal
 * that also fires on `$/cancelRequest {id}`, on the client hanging up and on
 * shutdown. A concurrency limit queues work beyond `maxConcurrent` (answering
 * EBUSY once the queue is full).
 */
// json-rpc-2.0's message types only. Its runtime is cheap to load with createRequire
// (+0.9 MB RSS; `await import()` of this CJS package costs +7.2 MB, Node 20.20), but
// dispatching through JSONRPCServer (its ES5 async machinery) allocates ~2-3 KB more
// per request: under `npm run bench -- agent`'s 3 x 200 concurrent agent.hello, V8's
// new space doubles (16 -> 32 MB) and the agent idles ~11 MB higher afterwards.
import type { JSONRPCID, JSONRPCResponse, JSONRPCErrorResponse, JSONRPCSuccessResponse } from 'json-rpc-2.0';
import type { z } from 'zod';
import { DOMAIN_ERROR, type AgentContext, type MethodImpl } from '../src/rpc/method.js';
import { StethError } from '../src/errors.js';
import { setMaxListeners } from 'node:events';
import { printable } from '../src/validate.js';

export type LogFn = AgentContext['log'];

/** The spec's reserved codes (same values as json-rpc-2.0's JSONRPCErrorCode). */
export const JSONRPCErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

function createJSONRPCErrorResponse(id: JSONRPCID, code: number, message: string, data?: unknown): JSONRPCErrorResponse {
  return data === undefined ? { jsonrpc: '2.0', id, error: { code, message } } : { jsonrpc: '2.0', id, error: { code, message, data } };
}

function createJSONRPCSuccessResponse(id: JSONRPCID, result: unknown): JSONRPCSuccessResponse {
  return { jsonrpc: '2.0', id, result };
}

export interface DispatchOptions {
  /** the caller's deadline for this body (ms) */
  deadlineMs?: number;
  /** aborts every request of this body (client hung up) */
  signal?: AbortSignal;
}

export interface DispatcherOptions {
  /** build the per-request context (signal is the request's own) */
  context: (signal: AbortSignal, method: string) => AgentContext;
  log: LogFn;
  /** handlers running at once (default 32) */
  maxConcurrent?: number;
  /** requests waiting beyond that before EBUSY (default 1024) */
  maxQueued?: number;
  /** deadline when neither caller nor method gives one (default 60 s) */
  defaultTimeoutMs?: number;
  /** cap on any deadline (default 15 min) */
  maxTimeoutMs?: number;
  /** largest batch accepted (default 256) */
  maxBatch?: number;
}

const MAX_BATCH = 256;

interface InFlight {
  controller: AbortController;
}

export class Dispatcher {
  readonly #methods = new Map<string, MethodImpl>();
  readonly #opts: Required<Omit<DispatcherOptions, 'context' | 'log'>> & Pick<DispatcherOptions, 'context' | 'log'>;
  readonly #inflight = new Map<string, Set<InFlight>>();
  readonly #shutdown = new AbortController();
  #running = 0;
  readonly #queue: Array<() => void> = [];
  /** epoch ms of the last request finished (for idle housekeeping) */
  lastActivity = 0;
  /** requests handled since start */
  handled = 0;

  constructor(methods: readonly MethodImpl[], opts: DispatcherOptions) {
    for (const m of methods) {
      if (this.#methods.has(m.spec.name)) throw new Error(`method ${m.spec.name} registered twice (agent/methods.ts)`);
      if (m.spec.name.startsWith('$/') || m.spec.name.startsWith('rpc.')) throw new Error(`method name ${m.spec.name} is reserved`);
      this.#methods.set(m.spec.name, m);
    }
    // one listener per in-flight request on the shutdown signal: no leak, no warning
    setMaxListeners(0, this.#shutdown.signal);
    this.#opts = {
      maxConcurrent: 32,
      maxQueued: 1024,
      defaultTimeoutMs: 60_000,
      maxTimeoutMs: 15 * 60_000,
      maxBatch: MAX_BATCH,
      ...opts,
    };
  }

  get methodNames(): string[] {
    return [...this.#methods.keys()].sort();
  }

  get running(): number {
    return this.#running;
  }

  /** Abort every in-flight request (agent shutdown). */
  abortAll(): void {
    this.#shutdown.abort(new StethError('ECANCELED', 'agent is shutting down'));
  }

  /** Raw body → response (null: nothing to send back). Never throws. */
  async dispatch(body: string, opts: DispatchOptions = {}): Promise<JSONRPCResponse | JSONRPCResponse[] | null> {
    let msg: unknown;
    try {
      msg = JSON.parse(body);
    } catch {
      return createJSONRPCErrorResponse(null, JSONRPCErrorCode.ParseError, 'Parse error');
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) return createJSONRPCErrorResponse(null, JSONRPCErrorCode.InvalidRequest, 'Invalid Request: empty batch');
      if (msg.length > this.#opts.maxBatch) {
        return createJSONRPCErrorResponse(null, JSONRPCErrorCode.InvalidRequest, `Invalid Request: batch of ${msg.length} exceeds ${this.#opts.maxBatch}`);
      }
      const all = await Promise.all(msg.map((m) => this.#one(m, opts)));
      const out = all.filter((r): r is JSONRPCResponse => r !== null);
      return out.length === 0 ? null : out;
    }
    return await this.#one(msg, opts);
  }

  async #one(msg: unknown, opts: DispatchOptions): Promise<JSONRPCResponse | null> {
    // ---- envelope (-32600) ----
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return invalidRequest(null, 'not an object');
    }
    const m = msg as Record<string, unknown>;
    const hasId = Object.prototype.hasOwnProperty.call(m, 'id');
    const id = m.id;
    const idOk = !hasId || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
    const rid: JSONRPCID = idOk && hasId ? (id as JSONRPCID) : null;
    if (!idOk) return invalidRequest(null, 'id must be a string, a number or null');
    if (m.jsonrpc !== '2.0') return invalidRequest(rid, 'jsonrpc must be "2.0"');
    if (typeof m.method !== 'string' || m.method.length === 0) return invalidRequest(rid, 'method must be a non-empty string');
    const params = m.params;
    if (params !== undefined && (typeof params !== 'object' || params === null)) return invalidRequest(rid, 'params must be an object or an array');
    const method = m.method;
    const isNotification = !hasId;

    // ---- protocol methods ----
    if (method === '$/cancelRequest') {
      const target = (params as { id?: unknown } | undefined)?.id;
      let cancelled = 0;
      if (typeof target === 'string' || typeof target === 'number') cancelled = this.#cancel(target);
      return isNotification ? null : createJSONRPCSuccessResponse(rid, { cancelled });
    }

    // ---- method lookup (-32601) ----
    const impl = this.#methods.get(method);
    if (!impl) {
      return isNotification ? null : createJSONRPCErrorResponse(rid, JSONRPCErrorCode.MethodNotFound, `Method not found: ${printable(method)}`);
    }

    // ---- params (-32602): nothing runs unless they validate ----
    const parsed = (impl.spec.params as z.ZodTypeAny).safeParse(params);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      const text = issues.map((i) => `${i.path || '(params)'}: ${i.message}`).join('; ');
      return isNotification ? null : createJSONRPCErrorResponse(rid, JSONRPCErrorCode.InvalidParams, `Invalid params: ${text.replace(/[\x00-\x1f\x7f]/g, " ").slice(0, 400)}`, { code: 'EINVAL', issues });
    }

    // ---- run with deadline, cancellation and the concurrency limit ----
    const deadline = Math.min(opts.deadlineMs ?? impl.spec.defaultTimeoutMs ?? this.#opts.defaultTimeoutMs, this.#opts.maxTimeoutMs);
    const controller = new AbortController();
    const entry: InFlight = { controller };
    const key = hasId && rid !== null ? String(rid) : undefined;
    if (key !== undefined) {
      let set = this.#inflight.get(key);
      if (!set) this.#inflight.set(key, (set = new Set()));
      set.add(entry);
    }
    const timer = setTimeout(() => controller.abort(new StethError('ETIMEDOUT', `${method} did not finish within ${deadline} ms`)), deadline);
    const onOuter = (s: AbortSignal) => () => controller.abort(s.reason instanceof StethError ? s.reason : new StethError('ECANCELED', `${method} cancelled: the caller hung up`));
    const outer = opts.signal;
    const offOuter = outer ? onOuter(outer) : undefined;
    if (outer && offOuter) outer.aborted ? offOuter() : outer.addEventListener('abort', offOuter, { once: true });
    const offShutdown = onOuter(this.#shutdown.signal);
    this.#shutdown.signal.aborted ? offShutdown() : this.#shutdown.signal.addEventListener('abort', offShutdown, { once: true });

    try {
      const result = await this.#limited(controller.signal, async () => {
        const ctx = this.#opts.context(controller.signal, method);
        const work = impl.handler(parsed.data, ctx);
        return await raceAbort(work, controller.signal);
      });
      const checked = (impl.spec.result as z.ZodTypeAny).safeParse(result);
      if (!checked.success) {
        this.#opts.log('error', 'handler result does not match its schema', { method, issues: checked.error.issues.slice(0, 5) });
        return isNotification ? null : createJSONRPCErrorResponse(rid, JSONRPCErrorCode.InternalError, `Internal error: ${method} produced a result that does not match its schema`);
      }
      return isNotification ? null : createJSONRPCSuccessResponse(rid, checked.data ?? null);
    } catch (err) {
      const e = toErrorResponse(rid, err);
      if (e.error.code === JSONRPCErrorCode.InternalError) {
        this.#opts.log('error', 'handler threw', { method, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      } else {
        this.#opts.log('debug', 'handler failed', { method, code: e.error.data?.code });
      }
      return isNotification ? null : e;
    } finally {
      clearTimeout(timer);
      if (outer && offOuter) outer.removeEventListener('abort', offOuter);
      this.#shutdown.signal.removeEventListener('abort', offShutdown);
      if (key !== undefined) {
        const set = this.#inflight.get(key);
        set?.delete(entry);
        if (set && set.size === 0) this.#inflight.delete(key);
      }
    }
  }

  #cancel(id: string | number): number {
    const set = this.#inflight.get(String(id));
    if (!set) return 0;
    for (const e of set) e.controller.abort(new StethError('ECANCELED', `request ${printable(String(id))} cancelled by the caller`));
    return set.size;
  }

  async #limited<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#opts.maxConcurrent) {
      if (this.#queue.length >= this.#opts.maxQueued) {
        throw new StethError('EBUSY', `agent is busy (${this.#running} running, ${this.#queue.length} queued)`, { hint: 'retry later or lower --concurrency' });
      }
      await new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.#queue.indexOf(go);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#queue.push(go);
      });
    }
    this.#running++;
    try {
      if (signal.aborted) throw signal.reason;
      return await fn();
    } finally {
      this.#running--;
      this.handled++;
      this.lastActivity = Date.now();
      this.#queue.shift()?.();
    }
  }
}

function invalidRequest(id: JSONRPCID, why: string): JSONRPCResponse {
  return createJSONRPCErrorResponse(id, JSONRPCErrorCode.InvalidRequest, `Invalid Request: ${why}`);
}

/** Resolve with the work, or reject with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A thrown value → JSON-RPC error response (domain codes for typed errors). */
export function toErrorResponse(id: JSONRPCID, err: unknown): JSONRPCResponse & { error: { code: number; message: string; data?: any } } {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; hint?: unknown; detail?: unknown } | null;
  if (err instanceof StethError) {
    const data: Record<string, unknown> = { code: err.code };
    if (err.hint !== undefined) data.hint = err.hint;
    if (err.detail !== undefined && isSmallJson(err.detail)) data.detail = err.detail;
    return createJSONRPCErrorResponse(id, DOMAIN_ERROR[err.code], err.message, data) as never;
  }
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string' && (e.name === 'PcapError' || e.name === 'WireError')) {
    const data: Record<string, unknown> = { code: e.code };
    if (typeof e.hint === 'string') data.hint = e.hint;
    const code = e.name === 'PcapError' ? pcapCode(e.code) : DOMAIN_ERROR.EWIRE;
    return createJSONRPCErrorResponse(id, code, e.message, data) as never;
  }
  return createJSONRPCErrorResponse(id, JSONRPCErrorCode.InternalError, 'Internal error', { code: 'EINTERNAL', hint: 'see the agent log' }) as never;
}

function pcapCode(code: string): number {
  if (code === 'EPERM') return DOMAIN_ERROR.EPERM;
  if (code === 'ENODEV') return DOMAIN_ERROR.ENOENT;
  return DOMAIN_ERROR.EPCAP;
}

function isSmallJson(x: unknown): boolean {
  try {
    return JSON.stringify(x).length <= 8192;
  } catch {
    return false;
  }
}
