/**
 * The HTTP transport on loopback: token checked before anything runs (401),
 * body limit (413), paths / and /RPC2, POST only, notifications → 204, and the
 * RpcClient talking to it. No root needed.
 */
import test from 'ava';
import http from 'node:http';
import { z } from 'zod';
import { AgentServer } from '../../../agent/server.js';
import { Dispatcher } from '../../../agent/dispatcher.js';
import { declare, implement, type AgentContext, type LedgerApi } from '../../../src/rpc/method.js';
import { AgentClient, RpcError } from '../../../src/rpc/client.js';
import { StethError } from '../../../src/errors.js';

const noLedger: LedgerApi = { acquire: () => 'x', release: async () => undefined, renew: () => undefined, has: () => false };
const TOKEN = 's3cret-token-value';

const echoSpec = declare('test.echo', z.object({ text: z.string() }).strict(), z.object({ text: z.string() }), 'echo');
const waitSpec = declare('test.wait', z.object({ ms: z.number() }).strict(), z.object({ waited: z.number() }), 'wait');

async function start(t: { teardown(fn: () => Promise<void>): void }, opts: { token?: string } = {}) {
  const ran: string[] = [];
  const logs: string[] = [];
  const cancelled: string[] = [];
  const d = new Dispatcher(
    [
      implement(echoSpec, async (p) => {
        ran.push(p.text);
        return p;
      }),
      implement(waitSpec, async (p, ctx) => {
        await new Promise<void>((resolve, reject) => {
          const tm = setTimeout(resolve, p.ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(tm);
            cancelled.push(String((ctx.signal.reason as Error).message));
            reject(ctx.signal.reason);
          });
        });
        return { waited: p.ms };
      }),
    ],
    {
      log: () => undefined,
      context: (signal): AgentContext => ({ signal, nodeName: 'n', ovsdb: undefined, ledger: noLedger, log: () => undefined }),
    },
  );
  const server = new AgentServer({ dispatcher: d, log: (level, msg, f) => logs.push(JSON.stringify({ level, msg, ...f })), listen: '127.0.0.1', port: 0, ...opts });
  const addr = await server.start();
  t.teardown(() => server.close());
  return { url: `http://127.0.0.1:${addr.port}`, port: addr.port, ran, logs, cancelled };
}

function post(port: number, path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const call = (text: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test.echo', params: { text } });

test('no token configured: POST / and /RPC2 both answer', async (t) => {
  const s = await start(t);
  for (const path of ['/', '/RPC2']) {
    const r = await post(s.port, path, call(path));
    t.is(r.status, 200);
    t.deepEqual(JSON.parse(r.body), { jsonrpc: '2.0', id: 1, result: { text: path } });
  }
  t.deepEqual(s.ran, ['/', '/RPC2']);
});

test('missing, wrong, malformed token: 401 and nothing runs; the token never appears in a log line', async (t) => {
  const s = await start(t, { token: TOKEN });
  const variants: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer wrong' },
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
    { authorization: TOKEN },
  ];
  for (const h of variants) {
    const r = await post(s.port, '/RPC2', call('must-not-run'), h);
    t.is(r.status, 401, JSON.stringify(h));
    t.is(r.headers['www-authenticate'], 'Bearer realm="steth-agent"');
  }
  t.deepEqual(s.ran, []);
  const ok = await post(s.port, '/RPC2', call('ran'), { authorization: `Bearer ${TOKEN}` });
  t.is(ok.status, 200);
  t.deepEqual(s.ran, ['ran']);
  t.false(s.logs.join('\n').includes(TOKEN));
});

test('oversize body: 413 and nothing runs (declared length and chunked)', async (t) => {
  const s = await start(t);
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test.echo', params: { text: 'x'.repeat(1024 * 1024 + 10) } });
  const r = await post(s.port, '/', big);
  t.is(r.status, 413);
  const r2 = await post(s.port, '/', big, { 'transfer-encoding': 'chunked' });
  t.is(r2.status, 413);
  t.deepEqual(s.ran, []);
  // just under the limit still works
  const under = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test.echo', params: { text: 'y'.repeat(1024 * 1000) } });
  t.is((await post(s.port, '/', under)).status, 200);
});

test('wrong path 404, GET 405, notification 204 with no body', async (t) => {
  const s = await start(t);
  t.is((await post(s.port, '/../../etc/passwd', call('a'))).status, 404);
  t.is((await post(s.port, '/RPC3', call('a'))).status, 404);
  const g = await post(s.port, '/', '', {}, 'GET');
  t.is(g.status, 405);
  t.is(g.headers.allow, 'POST');
  const n = await post(s.port, '/', JSON.stringify({ jsonrpc: '2.0', method: 'test.echo', params: { text: 'note' } }));
  t.is(n.status, 204);
  t.is(n.body, '');
  t.deepEqual(s.ran, ['note']);
});

test('garbage bodies never crash the server', async (t) => {
  const s = await start(t);
  for (const body of ['', '\x00\x01\x02', '{"jsonrpc":"2.0","method":"test.echo","params":{"text":"\\ud800"},"id":1}', '[[[[[[[[[[]]]]]]]]]]', 'null', Buffer.from([0xff, 0xfe, 0xfd])]) {
    const r = await post(s.port, '/', body);
    t.true([200, 204].includes(r.status));
  }
  t.is((await post(s.port, '/', call('still alive'))).status, 200);
});

test('AgentClient: result, RpcError with data, 401 as EAGENT, unreachable as EAGENT', async (t) => {
  const s = await start(t, { token: TOKEN });
  const good = new AgentClient({ name: 'a', url: s.url, token: TOKEN });
  t.deepEqual(await good.call(echoSpec, { text: 'hi' }), { text: 'hi' });
  const e = await t.throwsAsync(good.callRaw('test.echo', { text: 1 }));
  t.true(e instanceof RpcError);
  t.is((e as RpcError).code, -32602);
  const bad = new AgentClient({ name: 'a', url: s.url, token: 'nope' });
  const e2 = await t.throwsAsync(bad.call(echoSpec, { text: 'hi' }));
  t.true(e2 instanceof StethError && e2.code === 'EAGENT' && /401/.test(e2.message));
  const dead = new AgentClient({ name: 'dead', url: 'http://127.0.0.1:1' });
  const e3 = await t.throwsAsync(dead.call(echoSpec, { text: 'hi' }));
  t.true(e3 instanceof StethError && e3.code === 'EAGENT' && /ECONNREFUSED/.test(e3.message));
});

test('AgentClient deadline: ETIMEDOUT locally and the agent is told to cancel', async (t) => {
  const s = await start(t);
  const c = new AgentClient({ name: 'a', url: s.url });
  await c.call(echoSpec, { text: 'warm-up: keep-alive socket open' });
  const e = await t.throwsAsync(c.call(waitSpec, { ms: 60_000 }, { timeoutMs: 1000 }));
  t.true(e instanceof StethError && e.code === 'ETIMEDOUT');
  for (let i = 0; i < 300 && s.cancelled.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(s.cancelled.length, 1);
});

test('AgentClient cancel via signal aborts the remote handler', async (t) => {
  const s = await start(t);
  const c = new AgentClient({ name: 'a', url: s.url });
  await c.call(echoSpec, { text: 'warm-up: keep-alive socket open' });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1000);
  const e = await t.throwsAsync(c.call(waitSpec, { ms: 60_000 }, { signal: ac.signal }));
  t.true(e instanceof StethError && e.code === 'ECANCELED');
  for (let i = 0; i < 300 && s.cancelled.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(s.cancelled.length, 1);
});
