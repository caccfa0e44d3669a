/**
 * A small OVSDB client (RFC 7047: JSON-RPC 1.0 over a stream socket) for reads: one
 * `transact` per connection, no monitor, no locks. ovsdb-server answers a select of
 * Bridge/Port/Interface in well under a millisecond, where forking ovs-vsctl costs
 * 10-20 ms on a loaded node. Writes stay with ovs-vsctl (it knows the schema's
 * referential rules); ovs.ts falls back to it where this client cannot be used.
 */
import { connect, type Socket } from 'node:net';
import { StethError } from '../errors.js';
import { JsonTextSplitter } from './jsonstream.js';

/** One operation of a transact (RFC 7047 §5.2); only what the readers here send. */
export interface OvsdbSelect {
  op: 'select';
  table: string;
  /** conditions [column, function, value] (§5.1), e.g. ['external_ids', 'includes', ['map', [['iface-id', ID]]]] */
  where: unknown[];
  columns?: string[];
}

/** The result of one select: rows in RFC 7047 notation (["set",…], ["map",…], ["uuid",…], scalars). */
export interface OvsdbRows {
  rows: Array<Record<string, unknown>>;
}

export interface OvsdbOptions {
  signal?: AbortSignal;
  /** whole exchange deadline (connect → reply), default 5000 ms */
  timeoutMs?: number;
}

/** Why a transact failed: `connect` (no server there), `reply` (it answered, but not with rows). */
export type OvsdbStage = 'connect' | 'reply';

/** unix:/path → {path}, tcp:IP:PORT → {host, port}; ssl: and anything else → undefined (not spoken here). */
export function ovsdbEndpoint(remote: string): { path: string } | { host: string; port: number } | undefined {
  const u = /^unix:(\/.+)$/.exec(remote);
  if (u) return { path: u[1]! };
  const t = /^tcp:(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z.\-]+):(\d{1,5})$/.exec(remote);
  if (t) return { host: t[1]!.replace(/^\[|\]$/g, ''), port: Number(t[2]) };
  return undefined;
}

function failure(code: 'ETOOL' | 'ETIMEDOUT' | 'ECANCELED', stage: OvsdbStage, remote: string, message: string, cause?: unknown): StethError {
  return new StethError(code, message, {
    ...(stage === 'connect' || code === 'ETIMEDOUT' ? { hint: 'is ovsdb-server running? (agent --ovsdb unix:PATH)' } : {}),
    detail: { remote, stage },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * `transact` on `db` with these operations; resolves with one result per operation.
 * Errors: ETOOL stage 'connect' (no socket / refused / permission), ETIMEDOUT, ECANCELED,
 * ETOOL stage 'reply' (JSON-RPC error, an operation's error, a reply that is not JSON).
 */
export async function ovsdbTransact(remote: string, db: string, ops: readonly OvsdbSelect[], opts: OvsdbOptions = {}): Promise<OvsdbRows[]> {
  const ep = ovsdbEndpoint(remote);
  if (!ep) throw new StethError('EINVAL', `'${remote}' is not an OVSDB remote this client speaks (unix:/PATH or tcp:IP:PORT)`);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const id = 1;
  const request = JSON.stringify({ id, method: 'transact', params: [db, ...ops] });
  const reply = await new Promise<unknown>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(failure('ECANCELED', 'connect', remote, `OVSDB read at ${remote} was cancelled`));
    let sock: Socket | undefined;
    const splitter = new JsonTextSplitter();
    let connected = false;
    let done = false;
    const finish = (err: StethError | undefined, value?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock?.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const onAbort = (): void => finish(failure('ECANCELED', connected ? 'reply' : 'connect', remote, `OVSDB read at ${remote} was cancelled`));
    const timer = setTimeout(() => finish(failure('ETIMEDOUT', connected ? 'reply' : 'connect', remote, `OVSDB at ${remote} did not answer in ${timeoutMs} ms`)), timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock = 'path' in ep ? connect(ep.path) : connect(ep.port, ep.host);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      sock!.write(request);
    });
    sock.on('data', (chunk: string) => {
      let texts: string[];
      try {
        texts = splitter.push(chunk);
      } catch (e) {
        return finish(failure('ETOOL', 'reply', remote, `OVSDB at ${remote} sent ${(e as Error).message}`));
      }
      for (const text of texts) {
        let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
        try {
          msg = JSON.parse(text) as typeof msg;
        } catch {
          return finish(failure('ETOOL', 'reply', remote, `OVSDB at ${remote} sent text that is not JSON: ${text.slice(0, 80)}`));
        }
        if (msg.method === 'echo') {
          // RFC 7047 §4.1.11: keep-alive from the server; answer it like any peer would
          sock!.write(JSON.stringify({ id: msg.id ?? null, result: msg.params ?? [], error: null }));
          continue;
        }
        if (msg.id === id) return finish(undefined, msg);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(failure('ETOOL', connected ? 'reply' : 'connect', remote, `cannot reach OVSDB at ${remote}: ${e.code ?? e.message}`, e)));
    sock.on('close', () => finish(failure('ETOOL', connected ? 'reply' : 'connect', remote, `OVSDB at ${remote} closed the connection before answering`)));
  });
  return transactResult(remote, reply, ops.length);
}

/** A transact reply → its select results; every way it can be refused is ETOOL stage 'reply'. */
export function transactResult(remote: string, reply: unknown, nOps: number): OvsdbRows[] {
  const m = reply as { result?: unknown; error?: unknown };
  if (m.error !== null && m.error !== undefined) throw failure('ETOOL', 'reply', remote, `OVSDB at ${remote} refused the transaction: ${JSON.stringify(m.error).slice(0, 200)}`);
  if (!Array.isArray(m.result)) throw failure('ETOOL', 'reply', remote, `OVSDB at ${remote} answered without a result`);
  const out: OvsdbRows[] = [];
  for (let i = 0; i < nOps; i++) {
    const r = m.result[i] as { rows?: unknown; error?: unknown; details?: unknown } | null | undefined;
    if (r && typeof r.error === 'string') throw failure('ETOOL', 'reply', remote, `OVSDB at ${remote} refused operation ${i + 1}: ${r.error}${typeof r.details === 'string' ? ` (${r.details})` : ''}`);
    if (!r || !Array.isArray(r.rows)) throw failure('ETOOL', 'reply', remote, `OVSDB at ${remote} answered operation ${i + 1} without rows`);
    out.push({ rows: r.rows as Array<Record<string, unknown>> });
  }
  return out;
}
