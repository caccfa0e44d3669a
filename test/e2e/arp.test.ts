/**
 * check-arp against the lab: ARP who-has crafted at L2 by an agent, from inside a
 * qdhcp namespace and tagged on a tenant NIC; a down link; a duplicate IP we make.
 */
import anyTest from 'ava';
import { useLab } from '../lab/fixture.js';
import { needsRoot } from '../helpers/env.js';
import { labFault, labHeal } from '../../src/lab/index.js';
import { run } from '../../src/host/exec.js';
import { runCheckArp } from '../../probes/arp/run.js';
import { cliJson, labDeps } from '../unit/vlan/lab-deps.js';

const test = needsRoot(anyTest);
const lab = useLab(test);
const deps = () => labDeps(lab.state.configPath);

test.serial('healthy: from the qdhcp namespace a VM\'s IP is answered by exactly that VM\'s MAC', async (t) => {
  const net = lab.network('vlan');
  const vm = lab.ports({ network: 'vlan', node: 'compute-2' })[0]!;
  const r = await runCheckArp(await deps(), { agent: net.dhcp.node, targetIp: vm.ip, netns: net.dhcp.netns });
  t.true(r.ok, r.verdict);
  const an = (r.data as any).analysis;
  t.true(an.answered);
  t.false(an.duplicate);
  t.deepEqual(an.repliers.map((x: any) => x.mac), [vm.mac]);
  t.is((r.data as any).senderIp, net.dhcp.ip, 'sender address: the qdhcp port\'s own');
  t.regex(r.verdict, new RegExp(`is at ${vm.mac}`));
});

test.serial('tagged: a who-has with VLAN 100 on compute-1\'s tenant NIC reaches the VM behind compute-2 and the reply comes back tagged', async (t) => {
  const net = lab.network('vlan');
  const vm = lab.ports({ network: 'vlan', node: 'compute-2' })[0]!;
  const r = await runCheckArp(await deps(), { agent: 'compute-1', targetIp: vm.ip, iface: 'eth1', vlan: String(net.segmentationId) });
  t.true(r.ok, r.verdict);
  const an = (r.data as any).analysis;
  t.deepEqual(an.repliers.map((x: any) => x.mac), [vm.mac]);
  t.deepEqual(an.repliers[0].vlans, [[net.segmentationId]]);
});

test.serial('no answer on a down link: the far node\'s tenant NIC down → no reply; our own NIC down → "is down", nothing sent', async (t) => {
  const net = lab.network('vlan');
  const vm = lab.ports({ network: 'vlan', node: 'compute-2' })[0]!;
  await labFault(lab.prefix, 'nic-down', { node: 'compute-2', nic: 'net' });
  try {
    const far = await runCheckArp(await deps(), { agent: 'compute-1', targetIp: vm.ip, iface: 'eth1', vlan: String(net.segmentationId), waitMs: 500 });
    t.false(far.ok);
    t.false((far.data as any).analysis.answered);
    t.true((far.data as any).sent > 0);
    t.regex(far.verdict, /no ARP reply/);
    const own = await runCheckArp(await deps(), { agent: 'compute-2', targetIp: lab.node('compute-1').addresses.net, iface: 'eth1', waitMs: 300 });
    t.false(own.ok);
    t.true((own.data as any).linkDown);
    t.is((own.data as any).sent, 0);
    t.regex(own.verdict, /is down/);
  } finally {
    await labHeal(lab.prefix);
  }
});

test.serial('duplicate IP (built here: a second VM claims the first VM\'s address) is flagged, exit 1', async (t) => {
  const net = lab.network('vlan');
  const a = lab.ports({ network: 'vlan', node: 'compute-1' })[0]!;
  const b = lab.ports({ network: 'vlan', node: 'compute-2' })[0]!;
  const prefix = net.cidr.split('/')[1]!;
  await run('ip', ['addr', 'add', `${a.ip}/${prefix}`, 'dev', b.vmIface], { netns: b.vmNetns });
  t.teardown(() => run('ip', ['addr', 'del', `${a.ip}/${prefix}`, 'dev', b.vmIface], { netns: b.vmNetns, allowFail: true }).then(() => undefined));
  const r = await runCheckArp(await deps(), { agent: net.dhcp.node, targetIp: a.ip, netns: net.dhcp.netns });
  t.false(r.ok);
  const an = (r.data as any).analysis;
  t.true(an.duplicate);
  t.deepEqual(an.repliers.map((x: any) => x.mac).sort(), [a.mac, b.mac].sort());
  t.regex(r.verdict, /DUPLICATE/);
  const cli = await cliJson(lab.state.configPath, ['check-arp', net.dhcp.node, a.ip, '--netns', net.dhcp.netns]);
  t.is(cli.code, 1);
  t.true(cli.json.data.analysis.duplicate);
});

test('bad input: a bad IP, VLAN 4095, an unknown agent, an unknown namespace give clear errors', async (t) => {
  const d = await deps();
  await t.throwsAsync(runCheckArp(d, { agent: 'compute-1', targetIp: '10.0.0.300' }), { message: /not an IPv4 address/ });
  await t.throwsAsync(runCheckArp(d, { agent: 'compute-1', targetIp: '10.0.0.3', vlan: '4095' }), { message: /out of range/ });
  await t.throwsAsync(runCheckArp(d, { agent: 'nobody', targetIp: '10.0.0.3' }), { message: /no agent 'nobody'/ });
  const e = await t.throwsAsync(runCheckArp(d, { agent: 'compute-1', targetIp: '10.0.0.3', netns: 'qdhcp-does-not-exist' }));
  t.regex(e?.message ?? '', /compute-1/);
});
