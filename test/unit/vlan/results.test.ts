import test from 'ava';
import { analyzeDelivery, type ProbeObservation } from '../../../probes/vlan/analysis.js';
import { vlanInterfaceResult, matrixResult, validateVlanInterfaceArgs } from '../../../probes/vlan/run.js';
import { correlateMatrix, planMatrix } from '../../../probes/vlan/matrix.js';
import { StethError } from '../../../src/errors.js';

const tag = (vid: number) => ({ tpid: 0x8100, vid, pcp: 0 });
const obs = (seq: number, vid: number | undefined, probeId: string): ProbeObservation => ({ tsNs: 2_000_000n, sentNs: 1_000_000n, probeId, seq, tags: vid === undefined ? [] : [tag(vid)] });

function dir(from: string, to: string, probeId: string, seen: ProbeObservation[], sent = 3) {
  return { from, to, fromIface: 'eth1', toIface: 'eth1', probeId, report: analyzeDelivery({ probeId, sent, expectedTags: [tag(100)], observations: seen }) };
}

test('check-vlan-interface result: both ways delivered with the same tag → ok, one row per direction', (t) => {
  const r = vlanInterfaceResult(100, undefined, [dir('a', 'b', 'p', [0, 1, 2].map((s) => obs(s, 100, 'p'))), dir('b', 'a', 'q', [0, 1, 2].map((s) => obs(s, 100, 'q')))], true, true);
  t.true(r.ok);
  t.is(r.tables[0]!.rows.length, 2);
  t.is(r.tables[0]!.rows[0]!['Tag at receiver'], 'same');
  t.is(r.tables[0]!.rows[0]!['Latency min/avg/max ms'], '1/1/1');
  t.regex(r.verdict, /passes both ways/);
  t.notRegex(r.verdict, /clock/);
});

test('check-vlan-interface result: rewritten / stripped / lost directions each named in the verdict', (t) => {
  const r = vlanInterfaceResult(100, undefined, [dir('a', 'b', 'p', [0, 1, 2].map((s) => obs(s, 200, 'p'))), dir('b', 'a', 'q', [obs(0, undefined, 'q')])], false, true);
  t.false(r.ok);
  t.regex(r.verdict, /a → b: tag rewritten to 200/);
  t.regex(r.verdict, /b → a: 1\/3 delivered \(66.7% loss\), tag stripped/);
  t.regex(r.verdict, /clocks|synchronisation/, 'different clocks are said');
});

test('check-vlan-interface args: bad VLANs, same agents, bad counts are EINVAL before anything runs', (t) => {
  for (const vlan of [0, 4095, 4096, 'x']) t.throws(() => validateVlanInterfaceArgs({ agentA: 'a', agentB: 'b', iface: 'eth1', vlan }), { instanceOf: StethError });
  t.throws(() => validateVlanInterfaceArgs({ agentA: 'a', agentB: 'a', iface: 'eth1', vlan: 5 }), { message: /two different nodes/ });
  t.throws(() => validateVlanInterfaceArgs({ agentA: 'a', agentB: 'b', iface: 'eth1;reboot', vlan: 5 }), { instanceOf: StethError });
  t.throws(() => validateVlanInterfaceArgs({ agentA: 'a', agentB: 'b', iface: 'eth1', vlan: 5, count: 0 }), { message: /count/ });
  t.deepEqual(validateVlanInterfaceArgs({ agentA: 'a', agentB: 'b', iface: 'eth1', vlan: '100' }), { vlan: 100, iface: 'eth1' });
});

test('matrix result: first table is the VLAN × pair matrix (CSV), summary lists failing VLANs per pair, skipped nodes make it incomplete', (t) => {
  const plan = planMatrix({ nodes: ['a', 'b'], vlans: [100, 101, 102], count: 1, fpsPerNic: 100 });
  const senders = [
    { node: 'a', probeId: 'pa' },
    { node: 'b', probeId: 'pb' },
  ];
  const res = correlateMatrix(plan, senders, new Map([
    ['b', [obs(0, 100, 'pa'), obs(1, 101, 'pa')]],
    ['a', [obs(0, 100, 'pb'), obs(1, 101, 'pb'), obs(2, 102, 'pb')]],
  ]));
  const r = matrixResult(plan, res, { skipped: [], captureErrors: [], sendErrors: [], elapsedMs: 5, type: 'net', nics: [{ name: 'a', nic: 'eth1' }, { name: 'b', nic: 'eth1' }] });
  t.deepEqual(r.tables[0]!.columns, ['VLAN', 'a→b', 'b→a']);
  t.deepEqual(r.tables[0]!.rows, [
    { VLAN: 100, 'a→b': 'ok', 'b→a': 'ok' },
    { VLAN: 101, 'a→b': 'ok', 'b→a': 'ok' },
    { VLAN: 102, 'a→b': 'FAIL', 'b→a': 'ok' },
  ]);
  t.deepEqual(r.tables[1]!.rows, [{ From: 'a', To: 'b', Failing: 1, 'Not delivered': '102', Partial: null, 'Tag changed': null }]);
  t.false(r.ok);
  t.regex(r.verdict, /1 of 3 VLANs fail somewhere: 102; passing everywhere: 100-101/);
  const allOk = correlateMatrix(plan, senders, new Map([
    ['b', [0, 1, 2].map((s) => obs(s, 100 + s, 'pa'))],
    ['a', [0, 1, 2].map((s) => obs(s, 100 + s, 'pb'))],
  ]));
  const inc = matrixResult(plan, allOk, { skipped: [{ node: 'c', problem: 'c: eth1 is down' }], captureErrors: [], sendErrors: [], elapsedMs: 5, type: 'net', nics: [] });
  t.false(inc.ok, 'a node that could not take part is not a pass');
  t.is(inc.exitCode, 4);
  t.is(inc.tables[2]!.rows[0]!.Problem, 'c: eth1 is down');
});
