/** Pure parts of check-iperf: option merging/validation, types, addresses, the result model. */
import test from 'ava';
import { addressOn, buildResult, findAgentEntry, pairTable, parseTypes, runPair, testOptions, UDP_ATTEMPTS, type IperfDeps, type PairResult, type PairRow } from '../../../probes/iperf/run.js';
import { client as clientSpec, serverStart, serverStop } from '../../../probes/iperf/contract.js';
import { RpcError } from '../../../src/rpc/errors.js';
import { DOMAIN_ERROR } from '../../../src/rpc/method.js';
import type { AgentClient } from '../../../src/rpc/client.js';
import type { Config } from '../../../src/config/types.js';
import { StethError } from '../../../src/errors.js';
import { EXIT } from '../../../src/report/model.js';
import { parseIperf3 } from '../../../probes/iperf/parse.js';
import { fixture } from './helpers.js';

const cfg: Config = {
  source: '/etc/steth/steth.conf',
  port: 9698,
  timeoutMs: 30000,
  concurrency: 16,
  networkTypes: [],
  agents: [
    { name: 'network-1', url: 'http://10.1.0.1:9698', addresses: { mgmt: '10.1.0.1', net: '10.1.1.1', storage: '10.1.2.1' }, nics: {} },
    { name: 'compute-1', url: 'http://10.1.0.2:9698', addresses: { mgmt: '10.1.0.2', net: '10.1.1.2' }, nics: {} },
  ],
};

test('parseTypes: default all three, others = all, list deduplicated, unknown → EINVAL', (t) => {
  t.deepEqual(parseTypes(undefined), ['mgmt', 'net', 'storage']);
  t.deepEqual(parseTypes('others'), ['mgmt', 'net', 'storage']);
  t.deepEqual(parseTypes('net,mgmt,net'), ['net', 'mgmt']);
  const e = t.throws(() => parseTypes('mgmt,backup'), { instanceOf: StethError });
  t.is(e!.code, 'EINVAL');
  t.regex(e!.message, /backup/);
});

test('addressOn: a missing address is ECONFIG naming agent, type and key', (t) => {
  const c1 = findAgentEntry(cfg, 'compute-1');
  t.is(addressOn(c1, 'net'), '10.1.1.2');
  const e = t.throws(() => addressOn(c1, 'storage'), { instanceOf: StethError });
  t.is(e!.code, 'ECONFIG');
  t.regex(e!.message, /compute-1 has no address on the storage network/);
  t.regex(e!.hint!, /storage_address in \[agent compute-1\]/);
  t.is(t.throws(() => findAgentEntry(cfg, 'nosuch'), { instanceOf: StethError })!.code, 'ENOENT');
});

test('testOptions: defaults as the original (TCP, 5 s, 1 stream), new and original names merged', (t) => {
  t.deepEqual(testOptions({}), { protocol: 'tcp', durationS: 5, parallel: 1, reverse: false, bidir: false });
  const o = testOptions({ client_protocol: 'UDP', client_timeout: '3', client_parallel: '4', client_bandwidth: '100', server_port: '5001' });
  t.is(o.protocol, 'udp');
  t.is(o.durationS, 3);
  t.is(o.parallel, 4);
  t.is(o.bandwidth, 100e6, 'original bandwidth is Mbit/s');
  t.is(o.port, 5001);
  const n = testOptions({ protocol: 'tcp', time: '1', bandwidth: '9G', window: '256K', mss: '1400', reverse: true });
  t.is(n.bandwidth, 9e9);
  t.is(n.window, 262144);
  t.is(n.mss, 1400);
  t.true(n.reverse);
});

for (const [name, o] of [
  ['10X bandwidth', { bandwidth: '10X' }],
  ['protocol sctp', { protocol: 'sctp' }],
  ['duration 0', { time: '0' }],
  ['duration 1.5', { time: '1.5' }],
  ['parallel 999', { parallel: '999' }],
  ['reverse + bidir', { reverse: true, bidir: true }],
  ['mss with udp', { protocol: 'udp', mss: '1400' }],
  ['server/client protocol differ', { server_protocol: 'TCP', client_protocol: 'UDP' }],
  ['port 80', { port: '80' }],
] as const) {
  test(`testOptions rejects ${name} with EINVAL`, (t) => {
    const e = t.throws(() => testOptions(o as never), { instanceOf: StethError });
    t.is(e!.code, 'EINVAL');
  });
}

function pair(type: 'mgmt' | 'net', client: string, server: string, file = 'tcp.json'): PairResult {
  const result = parseIperf3(fixture(file)).result!;
  return { server, client, type, serverAddress: '10.1.0.1', clientAddress: '10.1.0.2', port: 15201, result, serverReport: null, overheadMs: { setup: 1, teardown: 1, client: 1 } };
}

const nodes = ['network-1', 'compute-1'];
const rowsOk = (): PairRow[] => [
  { type: 'mgmt', client: 'compute-1', server: 'network-1', outcome: { ok: true, pair: pair('mgmt', 'compute-1', 'network-1') } },
  { type: 'mgmt', client: 'network-1', server: 'compute-1', outcome: { ok: true, pair: pair('mgmt', 'network-1', 'compute-1', 'udp-loss.json') } },
];

test('matrix result: pairs table first (for CSV), then one client×server matrix per type, diagonal marked', (t) => {
  const r = buildResult('check-iperf --matrix', rowsOk(), ['mgmt'], nodes, { matrix: true, protocol: 'tcp', durationS: 1 });
  t.true(r.ok);
  t.is(r.tables[0]!.title, 'pairs');
  t.deepEqual(r.tables[0]!.columns.slice(0, 3), ['type', 'client', 'server']);
  t.is(r.tables[0]!.rows[0]!.received_bps, 9288125363);
  const m = r.tables[1]!;
  t.deepEqual(m.columns, ['client \\ server', 'network-1', 'compute-1']);
  t.is(m.rows[0]!['network-1'], '—');
  t.is(m.rows[1]!['network-1'], '9.29 Gbit/s');
  t.is(m.rows[0]!['compute-1'], '19.3 Mbit/s');
});

test('--min: pairs below are FAIL, the verdict names them, exit 1', (t) => {
  const r = buildResult('check-iperf --matrix', rowsOk(), ['mgmt'], nodes, { matrix: true, protocol: 'tcp', durationS: 1, min: 1e9 });
  t.false(r.ok);
  t.is(r.exitCode, undefined); // ok=false → exit 1
  t.regex(r.verdict, /1 of 2 below 1.00 Gbit\/s: mgmt network-1→compute-1 19.3 Mbit\/s/);
  t.deepEqual((r.data as { failures: string[] }).failures, ['mgmt network-1→compute-1 19.3 Mbit/s']);
  t.regex(String(r.tables[1]!.rows[0]!['compute-1']), /✗$/);
  const pass = buildResult('check-iperf --matrix', rowsOk(), ['mgmt'], nodes, { matrix: true, protocol: 'tcp', durationS: 1, min: 1e6 });
  t.true(pass.ok);
  t.regex(pass.verdict, /all 2 tests ≥ 1.00 Mbit\/s/);
});

test('a test that could not run is a row with its error; exit code from the error (agent unreachable → 4)', (t) => {
  const rows = rowsOk();
  rows[1] = { type: 'mgmt', client: 'network-1', server: 'compute-1', outcome: { ok: false, error: { code: 'EAGENT', message: 'agent compute-1 unreachable', exitCode: EXIT.AGENT } } };
  const r = buildResult('check-iperf --matrix', rows, ['mgmt'], nodes, { matrix: true, protocol: 'tcp', durationS: 1 });
  t.false(r.ok);
  t.is(r.exitCode, EXIT.AGENT);
  t.regex(r.verdict, /1 of 2 tests failed to run/);
  t.is(r.tables[1]!.rows[0]!['compute-1'], 'ERR EAGENT');
});

test('single result: one Field/Value table per type with direction, sent, received, CPU of both ends', (t) => {
  const r = buildResult('check-iperf', [rowsOk()[0]!], ['mgmt'], nodes, { matrix: false, protocol: 'tcp', durationS: 1 });
  t.is(r.tables.length, 1);
  const f = Object.fromEntries(r.tables[0]!.rows.map((x) => [x.Field, x.Value]));
  t.is(f.Direction, 'compute-1 → network-1');
  t.is(f.Sent, '9.34 Gbit/s');
  t.is(f.Received, '9.29 Gbit/s');
  t.is(f.Retransmits, 24);
  t.is(f['CPU client'], '24.4%');
  t.is(f['CPU server'], '65.8%');
  t.regex(r.verdict, /mgmt: 9.29 Gbit\/s received compute-1 → network-1/);
});

// ---- runPair: iperf3's UDP handshake hang is retried with a fresh server -------------------

interface FakeAgents {
  deps: IperfDeps;
  log: string[];
}

/** Agents whose iperf client hangs (ETIMEDOUT from the agent) `hangs` times, then measures. */
function fakeAgents(hangs: number, file: string, failWith?: RpcError): FakeAgents {
  const log: string[] = [];
  let servers = 0;
  let left = hangs;
  const client = (name: string): AgentClient =>
    ({
      call: async (spec: { name: string }) => {
        log.push(`${name} ${spec.name}`);
        if (spec.name === serverStart.name) return { id: `srv-${++servers}`, port: 15200 + servers, tool: 'iperf3', pid: 100 + servers };
        if (spec.name === serverStop.name) return { stopped: true, result: null };
        if (failWith) throw failWith;
        if (left-- > 0) throw new RpcError(DOMAIN_ERROR.ETIMEDOUT, 'iperf3 did not finish in 11000 ms', { code: 'ETIMEDOUT' }, name);
        return { ...parseIperf3(fixture(file)).result!, argv: ['iperf3'], elapsedMs: 1000 };
      },
    }) as unknown as AgentClient;
  return { deps: { config: async () => cfg, client, signal: new AbortController().signal }, log };
}

const job = { server: 'network-1', client: 'compute-1', type: 'mgmt' as const };
const udpOpts = { ...testOptions({ protocol: 'udp', time: '1' }) };
const tcpOpts = { ...testOptions({ protocol: 'tcp', time: '1' }) };

test('runPair: a UDP test whose client hung is run again with a fresh server; attempts says how many it took', async (t) => {
  const f = fakeAgents(1, 'udp.json');
  const r = await runPair(f.deps, cfg, job, udpOpts);
  t.is(r.attempts, 2);
  t.is(r.port, 15202, 'the second server answered');
  t.deepEqual(f.log, [
    'network-1 iperf.server.start', 'compute-1 iperf.client', 'network-1 iperf.server.stop',
    'network-1 iperf.server.start', 'compute-1 iperf.client', 'network-1 iperf.server.stop',
  ].map((x) => x.replace(/iperf\.server\.start/, serverStart.name).replace(/iperf\.server\.stop/, serverStop.name).replace(/iperf\.client/, clientSpec.name)));
  t.true(pairTable(r).rows.some((row) => row.Field === 'Attempts' && /^2 \(/.test(String(row.Value))), JSON.stringify(pairTable(r).rows));
});

test(`runPair: UDP gives up after ${UDP_ATTEMPTS} hung tests with the agent's ETIMEDOUT, every server stopped`, async (t) => {
  const f = fakeAgents(10, 'udp.json');
  const e = await t.throwsAsync(runPair(f.deps, cfg, job, udpOpts), { instanceOf: RpcError });
  t.is(e?.data?.code, 'ETIMEDOUT');
  t.is(f.log.filter((l) => l.endsWith(serverStart.name)).length, UDP_ATTEMPTS);
  t.is(f.log.filter((l) => l.endsWith(serverStop.name)).length, UDP_ATTEMPTS);
});

test('runPair: TCP is never retried, nor a UDP test that failed any other way; a first-time measure has no attempts field', async (t) => {
  const tcp = fakeAgents(1, 'tcp.json');
  await t.throwsAsync(runPair(tcp.deps, cfg, job, tcpOpts), { instanceOf: RpcError });
  t.is(tcp.log.filter((l) => l.endsWith(serverStart.name)).length, 1);
  const refused = fakeAgents(0, 'udp.json', new RpcError(DOMAIN_ERROR.ETOOL, 'iperf3: unable to connect', { code: 'ETOOL' }, 'compute-1'));
  await t.throwsAsync(runPair(refused.deps, cfg, job, udpOpts), { instanceOf: RpcError });
  t.is(refused.log.filter((l) => l.endsWith(serverStart.name)).length, 1);
  const ok = await runPair(fakeAgents(0, 'udp.json').deps, cfg, job, udpOpts);
  t.is(ok.attempts, undefined);
});
