/**
 * The agent's HTTP(S) transport: POST / or /RPC2 (the original Python client
 * posts to /RPC2), Bearer token checked in constant time BEFORE the body is
 * read (401, no method runs), 1 MiB body limit (413), per-body deadline from
 * X-Steth-Deadline-Ms, and the request's signal aborted if the client hangs up.
 */
import http from 'node:http';
import https from 'node:https';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Dispatcher, LogFn } from './dispatcher.js';

export const BODY_LIMIT = 1024 * 1024;
export const RPC_PATHS = new Set(['/', '/RPC2', '/RPC2/']);

export interface AgentServerOptions {
  dispatcher: Dispatcher;
  log: LogFn;
  listen: string;
  port: number;
  /** Bearer token required on every request when set */
  token?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  bodyLimit?: number;
}

export class AgentServer {
  readonly #opts: AgentServerOptions;
  readonly #server: http.Server | https.Server;
  readonly #tokenDigest: Buffer | undefined;

  constructor(opts: AgentServerOptions) {
    this.#opts = opts;
    this.#tokenDigest = opts.token === undefined ? undefined : digest(opts.token);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.#handle(req, res).catch((e: unknown) => {
        opts.log('error', 'request handling failed', { error: e instanceof Error ? e.message : String(e) });
        if (!res.headersSent) send(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } });
        else res.destroy();
      });
    };
    this.#server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
    this.#server.keepAliveTimeout = 5000;
    this.#server.headersTimeout = 15_000;
    this.#server.requestTimeout = 0; // long probes; the dispatcher enforces deadlines
    this.#server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  async start(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      this.#server.once('error', onErr);
      this.#server.listen(this.#opts.port, this.#opts.listen, () => {
        this.#server.off('error', onErr);
        resolve();
      });
    });
    return this.#server.address() as AddressInfo;
  }

  address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections?.();
      setTimeout(() => this.#server.closeAllConnections?.(), 2000).unref();
    });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!RPC_PATHS.has(path)) return refuse(req, res, 404, 'not found: POST JSON-RPC to / or /RPC2');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(req, res, 405, 'method not allowed: use POST');
    }
    if (this.#tokenDigest !== undefined && !this.#authorized(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer realm="steth-agent"');
      this.#opts.log('warn', 'refused a request without a valid token', { remote: req.socket.remoteAddress });
      return refuse(req, res, 401, 'unauthorized: missing or wrong Bearer token', -32001);
    }
    const limit = this.#opts.bodyLimit ?? BODY_LIMIT;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) return refuse(req, res, 413, `request body larger than ${limit} bytes`, -32600);

    const body = await readBody(req, limit);
    if (body === undefined) return refuse(req, res, 413, `request body larger than ${limit} bytes`, -32600);

    const hungUp = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) hungUp.abort();
    });
    const dl = Number(req.headers['x-steth-deadline-ms']);
    const opts: { deadlineMs?: number; signal: AbortSignal } = { signal: hungUp.signal };
    if (Number.isInteger(dl) && dl > 0) opts.deadlineMs = dl;
    const out = await this.#opts.dispatcher.dispatch(body, opts);
    if (res.destroyed) return;
    if (out === null) {
      res.statusCode = 204;
      res.end();
      return;
    }
    send(res, 200, out);
  }

  #authorized(header: string | undefined): boolean {
    if (typeof header !== 'string') return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(digest(m[1]!), this.#tokenDigest!);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** Answer without reading the body; the connection is closed afterwards. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string, rpcCode = -32600): void {
  res.setHeader('connection', 'close');
  send(res, status, { jsonrpc: '2.0', id: null, error: { code: rpcCode, message } });
  req.resume();
  setTimeout(() => req.destroy(), 1000).unref();
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (e) => {
      if (!over) reject(e);
    });
  });
}
