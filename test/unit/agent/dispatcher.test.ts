/**
 * Dispatcher tests with literal JSON, no sockets (json-rpc-2.0 server.spec.ts
 * style). The real method list is used with every handler replaced by a spy, so
 * the schemas under test are the shipped ones and "nothing runs" is observable.
 */
import test from 'ava';
import { z } from 'zod';
import { Dispatcher } from '../../../agent/dispatcher.js';
import { methods } from '../../../agent/methods.js';
import { declare, implement, type AgentContext, type LedgerApi, type MethodImpl } from '../../../src/rpc/method.js';
import { StethError } from '../../../src/errors.js';

const noLedger: LedgerApi = {
  acquire: () => 'x',
  release: async () => undefined,
  renew: () => undefined,
  has: () => false,
};

function harness(extra: MethodImpl[] = [], opts: { maxConcurrent?: number; maxQueued?: number } = {}) {
  const ran: Array<{ method: string; params: unknown }> = [];
  const spied = methods.map((m) =>
    implement(m.spec, async (params) => {
      ran.push({ method: m.spec.name, params });
      throw new StethError('ENOENT', 'spy: not really run');
    }),
  );
  const logs: string[] = [];
  const d = new Dispatcher([...spied, ...extra], {
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    context: (signal): AgentContext => ({ signal, nodeName: 'test', ovsdb: undefined, ledger: noLedger, log: () => undefined }),
    ...opts,
  });
  return { d, ran, logs };
}

const echo = implement(declare('test.echo', z.object({ a: z.number() }).strict(), z.object({ a: z.number() }), 'echo'), async (p) => p);
const badResult = implement(declare('test.bad', z.object({}).strict(), z.object({ n: z.number() }), 'returns the wrong shape'), async () => ({ n: 'nope' }) as never);
const boom = implement(declare('test.boom', z.object({}).strict(), z.object({}), 'throws'), async () => {
  throw new Error('secret internals /etc/shadow');
});
const slow = implement(declare('test.slow', z.object({ ms: z.number() }).strict(), z.object({ done: z.boolean() }), 'waits', 50), async (p, ctx) => {
  await new Promise((resolve, reject) => {
    const t = setTimeout(resolve, p.ms);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(ctx.signal.reason);
    });
  });
  return { done: true };
});

test('parse error: -32700 with id null, nothing runs', async (t) => {
  const { d, ran } = harness();
  t.deepEqual(await d.dispatch('{"jsonrpc":"2.0","method":"iface.get",'), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  t.deepEqual(ran, []);
});

test('invalid request: wrong jsonrpc version, missing method, bad id, scalar params, non-object', async (t) => {
  const { d, ran } = harness();
  const cases: Array<[string, unknown]> = [
    ['{"jsonrpc":"1.0","method":"agent.hello","id":1}', 1],
    ['{"method":"agent.hello","id":2}', 2],
    ['{"jsonrpc":"2.0","id":3}', 3],
    ['{"jsonrpc":"2.0","method":"agent.hello","id":{"x":1}}', null],
    ['{"jsonrpc":"2.0","method":"iface.get","params":"eth0","id":5}', 5],
    ['{"jsonrpc":"2.0","method":"iface.get","params":null,"id":6}', 6],
    ['"hello"', null],
    ['42', null],
    ['[]', null],
  ];
  for (const [body, id] of cases) {
    const r = (await d.dispatch(body)) as { id: unknown; error: { code: number } };
    t.is(r.error.code, -32600, body);
    t.is(r.id, id, body);
  }
  t.deepEqual(ran, []);
});

test('method not found: -32601; rpc-internal names are not callable', async (t) => {
  const { d } = harness();
  const r = (await d.dispatch('{"jsonrpc":"2.0","method":"os.system","params":["reboot"],"id":1}')) as { error: { code: number; message: string } };
  t.is(r.error.code, -32601);
  t.regex(r.error.message, /os\.system/);
  const r2 = (await d.dispatch('{"jsonrpc":"2.0","method":"constructor","id":2}')) as { error: { code: number } };
  t.is(r2.error.code, -32601);
  const r3 = (await d.dispatch('{"jsonrpc":"2.0","method":"__proto__","id":3}')) as { error: { code: number } };
  t.is(r3.error.code, -32601);
});

const hostile: Array<[string, string]> = [
  ['eth0;reboot', 'characters'],
  ['../../x', 'characters'],
  ['abcdefghijklmnop', 'longer than 15'],
  ['$(reboot)', 'characters'],
  ['-rf', 'characters'],
  ['eth0 up', 'characters'],
  ['', 'non-empty'],
];

for (const [name, why] of hostile) {
  test(`interface name ${JSON.stringify(name)} is -32602 (${why}) for every method taking one, and nothing runs`, async (t) => {
    const { d, ran } = harness();
    const calls = [
      { method: 'iface.get', params: { name } },
      { method: 'link.setup', params: { iface: name, cidr: '10.0.0.1/24' } },
      { method: 'link.teardown', params: { iface: name } },
      { method: 'vlan.addToInterface', params: { iface: name, vlanId: 10 } },
      { method: 'ovs.ports', params: { bridge: name } },
      { method: 'get_interface', params: { interface: name } },
      { method: 'setup_link', params: { interface: name, cidr: '10.0.0.1/24' } },
      { method: 'teardown_link', params: [name] },
      { method: 'add_vlan_to_interface', params: { interface: name, vlan_id: 5 } },
      { method: 'check_ports_on_br', params: { bridge: 'br-int', ports: [name] } },
    ];
    for (const [i, c] of calls.entries()) {
      const r = (await d.dispatch(JSON.stringify({ jsonrpc: '2.0', id: i, ...c }))) as { error?: { code: number; message: string; data: { code: string; issues: unknown[] } } };
      t.is(r.error?.code, -32602, `${c.method}`);
      t.is(r.error?.data.code, 'EINVAL');
      t.true(Array.isArray(r.error?.data.issues) && r.error!.data.issues.length > 0);
      t.regex(r.error!.message, new RegExp(why));
    }
    t.deepEqual(ran, []);
  });
}

test('invalid params: wrong types, unknown fields, out-of-range values are -32602 listing each issue', async (t) => {
  const { d, ran } = harness();
  const cases = [
    { method: 'iface.get', params: { name: 5 } },
    { method: 'iface.get', params: { name: 'eth0', evil: true } },
    { method: 'iface.get', params: {} },
    { method: 'iface.get' },
    { method: 'vlan.addToInterface', params: { iface: 'eth1', vlanId: 4096 } },
    { method: 'vlan.addToInterface', params: { iface: 'eth1', vlanId: 10.5 } },
    { method: 'vlan.addToInterface', params: { iface: 'eth1', vlanId: '10' } },
    { method: 'link.setup', params: { iface: 'eth1', cidr: '10.0.0.300/24' } },
    { method: 'link.setup', params: { iface: 'eth1', cidr: '10.0.0.1/24', ttlMs: 5 } },
    { method: 'ovs.findPort', params: { portId: "x' OR 1=1" } },
    { method: 'iface.list', params: { netns: '../../etc' } },
    { method: 'setup_link', params: ['eth1', '10.0.0.1/24', 'extra'] },
    { method: 'agent.hello', params: { verbose: true } },
  ];
  for (const [i, c] of cases.entries()) {
    const r = (await d.dispatch(JSON.stringify({ jsonrpc: '2.0', id: i, ...c }))) as { error?: { code: number; data: { issues: Array<{ path: string; message: string }> } } };
    t.is(r.error?.code, -32602, JSON.stringify(c));
    t.true(r.error!.data.issues.length >= 1, JSON.stringify(c));
  }
  // two problems at once: both listed
  const r = (await d.dispatch('{"jsonrpc":"2.0","id":99,"method":"link.setup","params":{"iface":"a;b","cidr":"nope"}}')) as { error: { data: { issues: Array<{ path: string }> } } };
  t.deepEqual(r.error.data.issues.map((i) => i.path).sort(), ['cidr', 'iface']);
  t.deepEqual(ran, []);
});

test('valid params reach the handler; positional compat params map onto the original argument names', async (t) => {
  const { d, ran } = harness();
  await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"iface.get","params":{"name":"eth1"}}');
  await d.dispatch('{"jsonrpc":"2.0","id":2,"method":"setup_link","params":["eth1","10.0.0.5/24"]}');
  await d.dispatch('{"jsonrpc":"2.0","id":3,"method":"check_ports_on_br","params":{"bridge":"br-eth1","ports":"eth3"}}');
  t.deepEqual(ran, [
    { method: 'iface.get', params: { name: 'eth1' } },
    { method: 'setup_link', params: { interface: 'eth1', cidr: '10.0.0.5/24' } },
    { method: 'check_ports_on_br', params: { bridge: 'br-eth1', ports: ['eth3'] } },
  ]);
});

test('domain errors map to DOMAIN_ERROR codes with data {code, hint}', async (t) => {
  const { d } = harness();
  const r = (await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"iface.get","params":{"name":"eth1"}}')) as { error: { code: number; message: string; data: { code: string } } };
  t.is(r.error.code, 1002);
  t.is(r.error.data.code, 'ENOENT');
});

test('compat methods answer in the original {code, message, data} envelope (code 1 on a domain failure)', async (t) => {
  const d = new Dispatcher(methods, {
    log: () => undefined,
    context: (signal): AgentContext => ({ signal, nodeName: 'test', ovsdb: undefined, ledger: noLedger, log: () => undefined }),
  });
  const ok = (await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"validate_ip","params":{"ip":"10.0.0.01"}}')) as { result: unknown };
  t.deepEqual(ok.result, { code: 0, message: '10.0.0.1 is a valid IPv4 address', data: { ip: '10.0.0.1' } });
  const bad = (await d.dispatch('{"jsonrpc":"2.0","id":2,"method":"validate_ip","params":["10.0.0.256"]}')) as { result: { code: number; message: string; data: { error: string } } };
  t.is(bad.result.code, 1);
  t.is(bad.result.data.error, 'EINVAL');
  const hello = (await d.dispatch('{"jsonrpc":"2.0","id":3,"method":"say_hello","params":{}}')) as { result: unknown };
  t.deepEqual(hello.result, { code: 0, message: 'hello', data: {} });
});

test('unexpected throw is -32603 without leaking the message; bad result shape is -32603', async (t) => {
  const { d, logs } = harness([boom, badResult]);
  const r = (await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"test.boom","params":{}}')) as { error: { code: number; message: string } };
  t.is(r.error.code, -32603);
  t.notRegex(JSON.stringify(r), /shadow/);
  t.true(logs.some((l) => l.includes('handler threw')));
  const r2 = (await d.dispatch('{"jsonrpc":"2.0","id":2,"method":"test.bad","params":{}}')) as { error: { code: number; message: string } };
  t.is(r2.error.code, -32603);
  t.regex(r2.error.message, /schema/);
});

test('batch: mixed results in order, notifications get no entry, all-notification batch answers nothing', async (t) => {
  const { d } = harness([echo]);
  const r = (await d.dispatch(
    JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'test.echo', params: { a: 1 } },
      { jsonrpc: '2.0', method: 'test.echo', params: { a: 2 } },
      { jsonrpc: '2.0', id: 3, method: 'nope' },
      1,
      { jsonrpc: '2.0', id: 'x', method: 'test.echo', params: { a: 'wrong' } },
    ]),
  )) as Array<{ id: unknown; result?: unknown; error?: { code: number } }>;
  t.is(r.length, 4);
  t.deepEqual(r[0], { jsonrpc: '2.0', id: 1, result: { a: 1 } });
  t.is(r[1]!.error!.code, -32601);
  t.is(r[2]!.error!.code, -32600);
  t.is(r[3]!.error!.code, -32602);
  t.is(await d.dispatch(JSON.stringify([{ jsonrpc: '2.0', method: 'test.echo', params: { a: 1 } }])), null);
});

test('notification: runs, answers nothing, even when it fails', async (t) => {
  const { d, ran } = harness([echo]);
  t.is(await d.dispatch('{"jsonrpc":"2.0","method":"test.echo","params":{"a":1}}'), null);
  t.is(await d.dispatch('{"jsonrpc":"2.0","method":"iface.get","params":{"name":"eth0"}}'), null);
  t.is(await d.dispatch('{"jsonrpc":"2.0","method":"nope"}'), null);
  t.deepEqual(ran.map((r) => r.method), ['iface.get']);
});

test('deadline: a handler past its deadline answers ETIMEDOUT and sees its signal abort', async (t) => {
  const { d } = harness([slow]);
  const r = (await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"test.slow","params":{"ms":5000}}', { deadlineMs: 30 })) as { error: { code: number; data: { code: string } } };
  t.is(r.error.code, 1005);
  t.is(r.error.data.code, 'ETIMEDOUT');
});

test('$/cancelRequest by id aborts the running request with ECANCELED', async (t) => {
  const { d } = harness([slow]);
  const p = d.dispatch('{"jsonrpc":"2.0","id":"req-7","method":"test.slow","params":{"ms":10000}}', { deadlineMs: 20_000 });
  await new Promise((r) => setTimeout(r, 20));
  t.is(await d.dispatch('{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"req-7"}}'), null);
  const r = (await p) as { id: string; error: { code: number; data: { code: string } } };
  t.is(r.id, 'req-7');
  t.is(r.error.data.code, 'ECANCELED');
});

test('caller hang-up (outer signal) cancels the request', async (t) => {
  const { d } = harness([slow]);
  const ac = new AbortController();
  const p = d.dispatch('{"jsonrpc":"2.0","id":1,"method":"test.slow","params":{"ms":10000}}', { deadlineMs: 20_000, signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  const r = (await p) as { error: { data: { code: string } } };
  t.is(r.error.data.code, 'ECANCELED');
});

test('concurrency limit: extra requests queue and all complete; a full queue answers EBUSY', async (t) => {
  const { d } = harness([slow], { maxConcurrent: 2, maxQueued: 3 });
  const reqs = Array.from({ length: 6 }, (_, i) => d.dispatch(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'test.slow', params: { ms: 20 } }), { deadlineMs: 5000 }));
  const rs = (await Promise.all(reqs)) as Array<{ result?: { done: boolean }; error?: { data: { code: string } } }>;
  t.is(rs.filter((r) => r.result?.done).length, 5);
  t.is(rs.filter((r) => r.error?.data.code === 'EBUSY').length, 1);
  t.is(d.running, 0);
});

// ---- behaviour a dispatcher on json-rpc-2.0's JSONRPCServer would have to keep: where the ----
// ---- package (1.8.1) departs from the spec or from us (one-answer batch unwrapped, null    ----
// ---- entries throwing, reason-less -32600, result/error members refused, console.warn)     ----

test('batch: one answer is still an array of one; batch limits and bad entries are -32600 with reasons, in order', async (t) => {
  const { d } = harness([echo]);
  t.deepEqual(await d.dispatch('[{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"a":1}}]'), [{ jsonrpc: '2.0', id: 1, result: { a: 1 } }]);
  const r = (await d.dispatch('[null,{"jsonrpc":"2.0","id":2,"method":5},{"jsonrpc":"2.0","id":3,"method":"test.echo","params":{"a":3}}]')) as Array<{ id: unknown; error?: { code: number; message: string } }>;
  t.deepEqual(r.map((x) => [x.id, x.error?.code, x.error?.message]), [
    [null, -32600, 'Invalid Request: not an object'],
    [2, -32600, 'Invalid Request: method must be a non-empty string'],
    [3, undefined, undefined],
  ]);
  const big = JSON.stringify(Array.from({ length: 257 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'test.echo', params: { a: i } })));
  t.deepEqual(await d.dispatch(big), { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: batch of 257 exceeds 256' } });
  t.deepEqual(await d.dispatch('[]'), { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: empty batch' } });
});

test('envelope: reasons of -32600; result/error members are ignored like any unknown member; $/ names other than cancel are -32601', async (t) => {
  const { d } = harness([echo]);
  const cases: Array<[string, unknown, string]> = [
    ['{"jsonrpc":"2.0","method":"test.echo","id":[1]}', null, 'id must be a string, a number or null'],
    ['{"jsonrpc":"2.0","method":"test.echo","id":1e400}', null, 'id must be a string, a number or null'],
    ['{"jsonrpc":2,"method":"test.echo","id":1}', 1, 'jsonrpc must be "2.0"'],
    ['{"jsonrpc":"2.0","method":"","id":"a"}', 'a', 'method must be a non-empty string'],
    ['{"jsonrpc":"2.0","method":"test.echo","params":7,"id":null}', null, 'params must be an object or an array'],
    ['{"jsonrpc":"2.0","method":"test.echo","params":{"a":1}}'.replace('"2.0"', '"2"'), null, 'jsonrpc must be "2.0"'],
  ];
  for (const [body, id, why] of cases) t.deepEqual(await d.dispatch(body), { jsonrpc: '2.0', id, error: { code: -32600, message: `Invalid Request: ${why}` } }, body);
  t.deepEqual(await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"a":1},"result":null,"error":null}'), { jsonrpc: '2.0', id: 1, result: { a: 1 } });
  t.deepEqual(await d.dispatch('{"jsonrpc":"2.0","id":2,"method":"$/progress","params":{}}'), { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found: $/progress' } });
  t.deepEqual(await d.dispatch('{"jsonrpc":"2.0","id":3,"method":"$/cancelRequest","params":{"id":"none"}}'), { jsonrpc: '2.0', id: 3, result: { cancelled: 0 } });
});

test('errors go to our log, never to console.warn: method named, stack only for unexpected throws', async (t) => {
  const { d, logs } = harness([boom, echo]);
  const warned: unknown[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void warned.push(a);
  try {
    await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"test.boom","params":{}}');
    await d.dispatch('{"jsonrpc":"2.0","method":"iface.get","params":{"name":"eth0"}}');
  } finally {
    console.warn = warn;
  }
  t.deepEqual(warned, []);
  const threw = logs.find((l) => l.startsWith('error handler threw'));
  t.truthy(threw);
  t.is(JSON.parse(threw!.slice('error handler threw '.length)).method, 'test.boom');
  t.true(logs.some((l) => l.startsWith('debug handler failed') && l.includes('"method":"iface.get"') && l.includes('"code":"ENOENT"')));
});

test('counters for idle housekeeping: handled and lastActivity move only when a handler ran', async (t) => {
  const { d } = harness([echo]);
  await d.dispatch('{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"a":"bad"}}');
  await d.dispatch('{"jsonrpc":"2.0","id":2,"method":"nope"}');
  t.is(d.handled, 0);
  t.is(d.lastActivity, 0);
  const before = Date.now();
  await d.dispatch('[{"jsonrpc":"2.0","id":3,"method":"test.echo","params":{"a":1}},{"jsonrpc":"2.0","method":"test.echo","params":{"a":2}}]');
  t.is(d.handled, 2);
  t.true(d.lastActivity >= before);
  t.is(d.running, 0);
});
