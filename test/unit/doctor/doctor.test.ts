import test from 'ava';
import type { AgentEntry } from '../../../src/config/types.js';
import { planDoctor, parseChecks } from '../../../probes/doctor/plan.js';
import { outcome, parseJsonOutput, runDoctor, summarize, type StepRunner } from '../../../probes/doctor/run.js';

const agent = (name: string, i: number, withStorage = true): AgentEntry => ({
  name,
  url: `http://10.9.0.${i}:9698/`,
  addresses: { mgmt: `10.9.0.${i}`, net: `10.9.1.${i}`, ...(withStorage ? { storage: `10.9.2.${i}` } : {}) },
  nics: { mgmt: 'eth0', net: 'eth1', ...(withStorage ? { storage: 'eth2' } : {}) },
});
const three = [agent('network-1', 1), agent('compute-1', 2), agent('compute-2', 3)];

test('plan: every agent × type NIC gets an interface check, every agent pings its peers per type', (t) => {
  const steps = planDoctor({ agents: three });
  const ifaces = steps.filter((s) => s.check === 'interfaces');
  t.is(ifaces.length, 9);
  t.deepEqual(ifaces[0]!.argv, ['get-interface', 'network-1', 'eth0', '--require-up']);
  const pings = steps.filter((s) => s.check === 'ping');
  t.is(pings.length, 9);
  t.deepEqual(pings.find((s) => s.target === 'compute-1 → storage peers')!.argv, ['ping', 'compute-1', '10.9.2.1,10.9.2.3', '--count', '3']);
});

test('plan: MTU in a ring so each node sends and receives once; VLAN, DHCP and iperf only when asked', (t) => {
  const bare = planDoctor({ agents: three });
  t.deepEqual(bare.filter((s) => s.check === 'mtu').map((s) => s.argv.slice(1, 3)), [['network-1', 'compute-1'], ['compute-1', 'compute-2'], ['compute-2', 'network-1']]);
  t.false(bare.some((s) => ['vlan', 'dhcp', 'iperf'].includes(s.check)));
  const full = planDoctor({ agents: three }, { vlans: '100-110', ports: ['p1', 'p2'], minBandwidth: '1G', iperfSeconds: 2 });
  t.deepEqual(full.find((s) => s.check === 'vlan')!.argv, ['check-vlan', '--vlans', '100-110', '--network-type', 'net']);
  t.deepEqual(full.filter((s) => s.check === 'dhcp').map((s) => s.argv), [['check-dhcp', 'p1'], ['check-dhcp', 'p2']]);
  t.deepEqual(full.find((s) => s.check === 'iperf')!.argv, ['check-iperf', '--matrix', '--types', 'mgmt,net,storage', '--min', '1G', '--time', '2']);
});

test('plan: types default to those configured; a node without a storage address is left out of storage pings', (t) => {
  const mixed = [agent('a', 1), agent('b', 2, false)];
  const pings = planDoctor({ agents: mixed }, { skip: new Set(['interfaces', 'mtu']) }).filter((s) => s.check === 'ping');
  t.deepEqual(pings.map((s) => s.target), ['a → mgmt peers', 'b → mgmt peers', 'a → net peers', 'b → net peers']);
  t.is(planDoctor({ agents: mixed }, { types: ['mgmt'], skip: new Set(['agents', 'mtu', 'ping']) }).length, 2);
});

test('parseChecks rejects unknown names', (t) => {
  t.deepEqual([...parseChecks('vlan, dhcp')], ['vlan', 'dhcp']);
  t.throws(() => parseChecks('vlan,bogus'), { message: /unknown check 'bogus'/ });
});

test('outcome: exit 0 pass, 1 fail, other error; verdict from JSON, error JSON or stderr', (t) => {
  const step = { check: 'dhcp' as const, target: 'port x', argv: ['check-dhcp', 'x'] };
  t.is(outcome(step, 0, '{"ok":true,"verdict":"DHCP OK"}', '', 5).verdict, 'DHCP OK');
  const f = outcome(step, 1, '{"ok":false,"verdict":"no OFFER"}', '', 5);
  t.is(f.result, 'fail');
  const e = outcome(step, 4, '{"error":{"code":"EAGENT","message":"compute-1 unreachable"}}', '', 5);
  t.is(e.result, 'error');
  t.is(e.verdict, 'EAGENT: compute-1 unreachable');
  t.is(outcome(step, 2, '', 'error: unknown option\n', 5).verdict, 'error: unknown option');
});

test('parseJsonOutput keeps several documents printed back to back', (t) => {
  t.deepEqual(parseJsonOutput('{"a":1}\n{"b":"}{"}\n'), [{ a: 1 }, { b: '}{' }]);
  t.is(parseJsonOutput('   '), undefined);
});

test('summarize: all pass → ok; a fault → exit 1 naming the first; an unreachable agent outranks it (exit 4)', (t) => {
  const step = { check: 'ping' as const, target: 't', argv: ['ping'] };
  const pass = outcome(step, 0, '{"verdict":"ok"}', '', 1);
  const fail = outcome({ ...step, check: 'vlan', target: 'VLANs 100' }, 1, '{"verdict":"VLAN 105 not delivered"}', '', 1);
  const unreachable = outcome(step, 4, '{"error":{"code":"EAGENT","message":"down"}}', '', 1);
  t.true(summarize([pass, pass]).ok);
  const s = summarize([pass, fail]);
  t.false(s.ok);
  t.is(s.exitCode, 1);
  t.regex(s.verdict, /first: vlan VLANs 100: VLAN 105 not delivered/);
  t.is(summarize([fail, unreachable]).exitCode, 4);
  t.is(summarize([]).exitCode, 2);
});

test('runDoctor passes globals and -f json to every step, in order, and stops when aborted', async (t) => {
  const seen: string[][] = [];
  const runner: StepRunner = async (argv) => {
    seen.push(argv);
    return { code: 0, stdout: '{"verdict":"fine"}', stderr: '' };
  };
  const steps = planDoctor({ agents: three }, { skip: new Set(['interfaces', 'ping', 'mtu']) });
  const out = await runDoctor(steps, ['--config', '/x.conf'], { runner, signal: new AbortController().signal });
  t.deepEqual(seen, [['--config', '/x.conf', '-f', 'json', 'print-agents-info']]);
  t.is(out[0]!.result, 'pass');
  const ac = new AbortController();
  ac.abort();
  t.deepEqual(await runDoctor(steps, [], { runner, signal: ac.signal }), []);
});
