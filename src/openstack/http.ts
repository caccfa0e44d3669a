/**
 * JSON over Node's global fetch for the OpenStack APIs: one deadline per attempt,
 * the caller's AbortSignal honoured, a bounded retry policy for 5xx and refused
 * connections, and every failure turned into a StethError that says which API,
 * which request and what to do. Tokens travel only in the X-Auth-Token header
 * and never appear in an error, a detail or a log line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StethError } from '../errors.js';

export interface RetryPolicy {
  /** total attempts including the first (default 3) */
  attempts: number;
  /** first back-off in ms, doubled each retry (default 250) */
  baseDelayMs: number;
  /** cap for one back-off, also for a server's Retry-After (default 4000) */
  maxDelayMs: number;
  /** statuses retried for idempotent requests (GET, HEAD, PUT, DELETE) */
  retryStatuses: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4000, retryStatuses: [500, 502, 503, 504] };

export interface HttpOptions {
  /** deadline of one attempt (default 15 s) */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** debug log; receives method, URL and status only */
  log?: (line: string) => void;
}

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  url: string;
  /** which API (for messages): "Keystone", "Neutron" */
  service: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  attempts: number;
}

/** The error thrown for a non-2xx answer (after retries); callers map it further. */
export class HttpStatusError extends StethError {
  readonly status: number;
  readonly service: string;
  constructor(status: number, service: string, method: string, url: string, serverMessage: string) {
    const { code, hint } = mapStatus(status, service);
    super(code, `${service} ${method} ${safePath(url)} → ${status}${serverMessage ? `: ${serverMessage}` : ''}`, {
      hint,
      detail: { status, service, method, path: safePath(url) },
    });
    this.status = status;
    this.service = service;
  }
}

function mapStatus(status: number, service: string): { code: StethError['code']; hint: string } {
  if (status === 401) return { code: 'EPERM', hint: `${service} rejected the credentials: check the user, password or application credential, and the domain/project` };
  if (status === 403) return { code: 'EPERM', hint: 'the token is not allowed to do this; binding:* and provider:* fields need an admin token' };
  if (status === 404) return { code: 'ENOENT', hint: `${service} does not know this resource` };
  if (status === 409) return { code: 'EBUSY', hint: `${service} reports a conflict (in use or already exists)` };
  if (status === 400) return { code: 'EINVAL', hint: `${service} refused the request as invalid` };
  if (status === 413 || status === 429) return { code: 'EBUSY', hint: `${service} is rate-limiting or over quota` };
  return { code: 'EAGENT', hint: `${service} failed on the server side; look at its log` };
}

/** Path + query without credentials, for messages. */
export function safePath(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return '(bad url)';
  }
}

/** OpenStack error bodies: {"NeutronError": {"message"}}, {"error": {"message"}}, {"badRequest": {...}}, text. */
export function serverMessage(body: unknown, text: string): string {
  const pick = (o: unknown): string | undefined => {
    if (typeof o !== 'object' || o === null) return undefined;
    const r = o as Record<string, unknown>;
    for (const k of ['NeutronError', 'error', 'badRequest', 'itemNotFound', 'forbidden', 'conflictingRequest']) {
      const v = r[k];
      if (typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).message === 'string') {
        return (v as Record<string, unknown>).message as string;
      }
    }
    if (typeof r.message === 'string') return r.message;
    return undefined;
  };
  const m = pick(body) ?? text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return m.slice(0, 300);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

function retryAfterMs(h: Headers): number | undefined {
  const v = h.get('retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function connectionRefused(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

function transportError(e: unknown, req: JsonRequest, timeoutMs: number, callerAborted: boolean): StethError {
  if (callerAborted) return new StethError('ECANCELED', `${req.service} ${req.method} ${safePath(req.url)} was cancelled`);
  const name = (e as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new StethError('ETIMEDOUT', `${req.service} did not answer ${req.method} ${safePath(req.url)} within ${timeoutMs} ms`, {
      hint: `is ${originOf(req.url)} reachable from here?`,
    });
  }
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  return new StethError('EAGENT', `cannot reach ${req.service} at ${originOf(req.url)}: ${why}`, {
    hint: `check the endpoint URL and that ${req.service} is running`,
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(bad url)';
  }
}

/**
 * One JSON request with the retry policy: idempotent requests are retried on
 * retryStatuses, timeouts and refused connections; POST only on a refused
 * connection (the server never saw it) or a 503 carrying Retry-After.
 */
export async function requestJson<T = unknown>(req: JsonRequest, opts: HttpOptions = {}): Promise<JsonResponse<T>> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const attempts = Math.max(1, Math.min(policy.attempts, 10));
  const idempotent = IDEMPOTENT.has(req.method);
  const headers: Record<string, string> = { Accept: 'application/json', ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  if (req.token !== undefined) headers['X-Auth-Token'] = req.token;
  const bodyText = req.body === undefined ? undefined : JSON.stringify(req.body);
  let lastError: StethError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (opts.signal?.aborted) throw new StethError('ECANCELED', `${req.service} ${req.method} ${safePath(req.url)} was cancelled`);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    let delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    try {
      const init: RequestInit = { method: req.method, headers, signal };
      if (bodyText !== undefined) init.body = bodyText;
      res = await fetch(req.url, init);
    } catch (e) {
      const err = transportError(e, req, timeoutMs, opts.signal?.aborted === true);
      opts.log?.(`${req.service} ${req.method} ${safePath(req.url)} attempt ${attempt}: ${err.code}`);
      if (err.code === 'ECANCELED') throw err;
      lastError = err;
      const retriable = connectionRefused(e) || (idempotent && (err.code === 'ETIMEDOUT' || err.code === 'EAGENT'));
      if (!retriable || attempt === attempts) throw err;
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined).catch(() => undefined);
      continue;
    }
    const text = req.method === 'HEAD' ? '' : await res.text().catch(() => '');
    opts.log?.(`${req.service} ${req.method} ${safePath(req.url)} attempt ${attempt}: ${res.status}`);
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (res.ok) {
      if (text !== '' && parsed === undefined && res.status !== 204) {
        throw new StethError('EAGENT', `${req.service} ${req.method} ${safePath(req.url)} answered ${res.status} with a body that is not JSON`, {
          hint: 'is the endpoint URL right (a proxy or a different service may be answering)?',
        });
      }
      return { status: res.status, headers: res.headers, body: parsed as T, attempts: attempt };
    }
    const err = new HttpStatusError(res.status, req.service, req.method, req.url, serverMessage(parsed, text));
    lastError = err;
    const ra = retryAfterMs(res.headers);
    const retriable = (idempotent && policy.retryStatuses.includes(res.status)) || (!idempotent && res.status === 503 && ra !== undefined);
    if (!retriable || attempt === attempts) throw err;
    if (ra !== undefined) delay = Math.min(policy.maxDelayMs, ra);
    await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined).catch(() => undefined);
  }
  throw lastError ?? new StethError('EAGENT', `${req.service} request failed`);
}
