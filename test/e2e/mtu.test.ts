/**
 * check-mtu against the lab: DF probes with binary search on the agents (both
 * directions), NIC MTUs from interface reports, the VXLAN hint, the lab's
 * mtu-mismatch fault, and the VXLAN tenant network measured from inside a VM.
 */
import anyTest from 'ava';
import { useLab } from '../lab/fixture.js';
import { needsRoot } from '../helpers/env.js';
import { run } from '../../src/host/exec.js';
import { labFault, labHeal } from '../../src/lab/index.js';
import { runCheckMtu } from '../../probes/mtu/run.js';
import { cliJson, labDeps } from '../unit/vlan/lab-deps.js';

const test = needsRoot(anyTest);
const lab = useLab(test);
const deps = () => labDeps(lab.state.configPath);

test.serial('healthy tenant network: path MTU 1500 both ways, NICs at 1500, VXLAN carries 1450', async (t) => {
  const r = await cliJson(lab.state.configPath, ['check-mtu', 'compute-1', 'compute-2']);
  t.is(r.code, 0, r.stderr);
  t.true(r.json.ok, r.json.verdict);
  t.is(r.json.data.pathMtu, 1500);
  t.is(r.json.data.vxlanTenantMtu, 1450);
  t.deepEqual(r.json.data.directions.map((d: any) => [d.from, d.to, d.search.pathMtu]), [
    ['compute-1', 'compute-2', 1500],
    ['compute-2', 'compute-1', 1500],
  ]);
  const nics = r.json.data.nics.filter((n: any) => n.iface === 'eth1');
  t.deepEqual(nics.map((n: any) => [n.node, n.mtu]), [
    ['compute-1', 1500],
    ['compute-2', 1500],
  ]);
  t.regex(r.json.verdict, /VXLAN over it carries ≤ 1450/);
});

test.serial('mtu-mismatch fault: found with the right figure from either end, the small NIC named', async (t) => {
  const rec = await labFault(lab.prefix, 'mtu-mismatch', { node: 'compute-1', mtu: 1400 });
  try {
    for (const [a, b] of [
      ['compute-2', 'compute-1'],
      ['compute-1', 'compute-2'],
    ] as const) {
      const r = await runCheckMtu(await deps(), { agentA: a, agentB: b });
      t.false(r.ok, `${a} → ${b}`);
      t.is((r.data as any).pathMtu, 1400, `${a} → ${b}: ${r.verdict}`);
      const small = (r.data as any).nics.find((n: any) => n.node === 'compute-1' && n.iface === 'eth1');
      t.is(small.mtu, 1400);
      t.regex(r.verdict, /smallest is 1400 on [^;]*compute-1:eth1/);
    }
    t.regex(rec.summary, /1400/);
  } finally {
    await labHeal(lab.prefix);
  }
});

test.serial('the VXLAN tenant network shows 1450: measured from a VM to a VM on the other node', async (t) => {
  const [vmA] = lab.ports({ network: 'vxlan', node: 'compute-1' });
  const [vmB] = lab.ports({ network: 'vxlan', node: 'compute-2' });
  // userspace OVS drops the first frames over a cold VXLAN tunnel while it resolves the
  // remote endpoint; warm the path so the search measures the MTU, not that start-up loss
  await run('ping', ['-c', '3', '-i', '0.2', '-W', '1', vmB!.ip], { netns: vmA!.vmNetns, allowFail: true, timeoutMs: 5000 });
  const r = await runCheckMtu(await deps(), { agentA: 'compute-1', agentB: 'compute-2', netns: vmA!.vmNetns, dest: vmB!.ip });
  const d = (r.data as any).directions;
  t.is(d.length, 1);
  t.is(d[0].search.pathMtu, 1450, r.verdict);
  t.is(lab.network('vxlan').mtu, 1450);
});

test('bad input: same agent twice, unknown agent, unknown network type are clear errors', async (t) => {
  const d = await deps();
  await t.throwsAsync(runCheckMtu(d, { agentA: 'compute-1', agentB: 'compute-1' }), { message: /two different nodes/ });
  await t.throwsAsync(runCheckMtu(d, { agentA: 'compute-1', agentB: 'compute-7' }), { message: /no agent 'compute-7'/ });
  await t.throwsAsync(runCheckMtu(d, { agentA: 'compute-1', agentB: 'compute-2', networkType: 'tenant' }), { message: /not one of mgmt, net, storage/ });
});
