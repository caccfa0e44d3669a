/**
 * Every lab fault visibly breaks what it should (seen with ping / udhcpc / tcpdump)
 * and `heal` restores it. One lab for the file; faults run one at a time.
 */
import anyTest, { type ExecutionContext } from 'ava';
import { run } from '../../src/host/exec.js';
import { labFault, labHeal, labStatus, loadLab } from '../../src/lab/index.js';
import { needsRoot } from '../helpers/env.js';
import { useLab } from '../lab/fixture.js';
import { captureWhile, ping, udhcpc } from '../lab/tools.js';

const test = needsRoot(anyTest);
const lab = useLab(test, { agents: false });

const vlanC1 = () => lab.ports({ node: 'compute-1', network: 'vlan', hybrid: true })[0]!;
const vlanC1Tap = () => lab.ports({ node: 'compute-1', network: 'vlan', hybrid: false })[0]!;
const vlanC2 = () => lab.ports({ node: 'compute-2', network: 'vlan' })[0]!;
const vxlanC1 = () => lab.ports({ node: 'compute-1', network: 'vxlan' })[0]!;
const vxlanC2 = () => lab.ports({ node: 'compute-2', network: 'vxlan' })[0]!;

async function reaches(t: ExecutionContext, from: { vmNetns: string }, to: { ip: string }, label: string): Promise<void> {
  const r = await ping(from.vmNetns, to.ip, { count: 4 });
  t.true(r.received > 0, `${label}: expected replies\n${r.output}`);
}

async function blocked(t: ExecutionContext, from: { vmNetns: string }, to: { ip: string }, label: string): Promise<void> {
  const r = await ping(from.vmNetns, to.ip, { count: 3 });
  t.is(r.received, 0, `${label}: expected no replies\n${r.output}`);
}

/** Apply a fault, run the broken-checks, heal, run the restored-checks; the state lists the fault meanwhile. */
async function faultCycle(t: ExecutionContext, name: string, args: Record<string, string | number>, broken: () => Promise<void>, restored: () => Promise<void>): Promise<void> {
  await labFault(lab.prefix, name, args);
  t.deepEqual((await loadLab(lab.prefix))!.faults.map((f) => f.name), [name]);
  try {
    await broken();
  } finally {
    const healed = await labHeal(lab.prefix);
    t.deepEqual(healed.map((f) => f.name), [name]);
  }
  t.deepEqual((await loadLab(lab.prefix))!.faults, []);
  await restored();
}

test.serial('vlan-translation: compute-1 puts VLAN 101 on the wire, VLAN ping and DHCP fail; heal restores them', async (t) => {
  const seg = lab.network('vlan').segmentationId;
  await faultCycle(t, 'vlan-translation', { node: 'compute-1' }, async () => {
    const s = lab.state;
    const out = await captureWhile(s.switch.netns, s.switch.ports['compute-1']!.net, ['vlan'], 1, (signal) =>
      run('ping', ['-n', '-c', '10', '-i', '0.2', vlanC2().ip], { netns: vlanC1().vmNetns, signal, allowFail: true }),
    );
    t.regex(out, new RegExp(`vlan ${seg + 1},`), out);
    await blocked(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    t.false((await udhcpc(vlanC1().vmNetns, 'eth0', 2)).ok);
  }, async () => {
    await reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    t.true((await udhcpc(vlanC1().vmNetns)).ok);
  });
});

test.serial('vlan-not-trunked: VLAN traffic of compute-1 stops at the switch, VXLAN still works', async (t) => {
  await faultCycle(t, 'vlan-not-trunked', { node: 'compute-1' }, async () => {
    await blocked(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    await reaches(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2');
  }, () => reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2'));
});

test.serial('dnsmasq-stopped: no lease on the VLAN network, the VXLAN network still serves', async (t) => {
  await faultCycle(t, 'dnsmasq-stopped', { network: 'vlan' }, async () => {
    t.false((await udhcpc(vlanC1().vmNetns, 'eth0', 2)).ok);
    t.true((await udhcpc(vxlanC1().vmNetns)).ok);
    t.false((await labStatus(lab.prefix)).networks.find((n) => n.type === 'vlan')!.dnsmasq);
  }, async () => {
    t.true((await udhcpc(vlanC1().vmNetns)).ok);
  });
});

test.serial('mac-missing: that port gets no lease while another port on the network does', async (t) => {
  await faultCycle(t, 'mac-missing', { port: vlanC1().id }, async () => {
    t.false((await udhcpc(vlanC1().vmNetns, 'eth0', 2)).ok);
    t.true((await udhcpc(vlanC2().vmNetns)).ok);
  }, async () => {
    t.true((await udhcpc(vlanC1().vmNetns)).ok);
  });
});

test.serial('qvo-removed: the hybrid VM is cut off, the non-hybrid VM on the same node is not', async (t) => {
  await faultCycle(t, 'qvo-removed', { port: vlanC1().id }, async () => {
    await blocked(t, vlanC1(), vlanC2(), 'hybrid c1→c2');
    await reaches(t, vlanC1Tap(), vlanC2(), 'tap c1→c2');
  }, () => reaches(t, vlanC1(), vlanC2(), 'hybrid c1→c2'));
});

test.serial('tap-detached: the VM is cut off from its qbr', async (t) => {
  await faultCycle(t, 'tap-detached', { port: vlanC1().id }, async () => {
    await blocked(t, vlanC1(), vlanC2(), 'hybrid c1→c2');
    await reaches(t, vlanC1Tap(), vlanC2(), 'tap c1→c2');
  }, () => reaches(t, vlanC1(), vlanC2(), 'hybrid c1→c2'));
});

test.serial('dead-vlan: the port tagged 4095 forwards nothing', async (t) => {
  await faultCycle(t, 'dead-vlan', { port: vlanC1().id }, async () => {
    await blocked(t, vlanC1(), vlanC2(), 'c1→c2');
    t.false((await udhcpc(vlanC1().vmNetns, 'eth0', 2)).ok);
  }, () => reaches(t, vlanC1(), vlanC2(), 'c1→c2'));
});

test.serial('mtu-mismatch: full-size frames to compute-1 are dropped, small ones pass', async (t) => {
  await faultCycle(t, 'mtu-mismatch', { node: 'compute-1', mtu: 1400 }, async () => {
    const big = await ping(vlanC2().vmNetns, vlanC1().ip, { count: 3, size: 1472, dontFragment: true });
    t.is(big.received, 0, big.output);
    await reaches(t, vlanC2(), vlanC1(), 'small c2→c1');
  }, async () => {
    const big = await ping(vlanC2().vmNetns, vlanC1().ip, { count: 3, size: 1472, dontFragment: true });
    t.true(big.received > 0, big.output);
  });
});

test.serial('nic-down: compute-1 loses both tenant networks', async (t) => {
  await faultCycle(t, 'nic-down', { node: 'compute-1' }, async () => {
    await blocked(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    await blocked(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2');
  }, async () => {
    await reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    await reaches(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2');
  });
});

test.serial('vswitchd-stopped: compute-1 forwards nothing; heal restarts it with its flows and underlay', async (t) => {
  await faultCycle(t, 'vswitchd-stopped', { node: 'compute-1' }, async () => {
    await blocked(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    t.false((await labStatus(lab.prefix)).nodes.find((n) => n.name === 'compute-1')!.ovs);
  }, async () => {
    await reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2');
    await reaches(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2');
    t.true((await udhcpc(vxlanC1().vmNetns)).ok);
  });
});

test.serial('vswitchd-stopped on the network node: no leases on either network; heal restores DHCP ports and dnsmasq', async (t) => {
  await faultCycle(t, 'vswitchd-stopped', { node: 'network-1' }, async () => {
    t.false((await udhcpc(vlanC1().vmNetns, 'eth0', 2)).ok);
    t.false((await udhcpc(vxlanC1().vmNetns, 'eth0', 2)).ok);
    await reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2 (does not cross the network node)');
  }, async () => {
    t.true((await udhcpc(vlanC1().vmNetns)).ok);
    t.true((await udhcpc(vxlanC1().vmNetns)).ok);
  });
});

test.serial('vxlan-remote-wrong: compute-1 → compute-2 over VXLAN fails, DHCP from the network node still works', async (t) => {
  await faultCycle(t, 'vxlan-remote-wrong', { node: 'compute-1', peer: 'compute-2' }, async () => {
    await blocked(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2');
    t.true((await udhcpc(vxlanC1().vmNetns)).ok);
  }, () => reaches(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2'));
});

test.serial('underlay-missing: VXLAN from compute-1 fails, VLAN does not', async (t) => {
  await faultCycle(t, 'underlay-missing', { node: 'compute-1' }, async () => {
    await blocked(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2');
    await reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2');
  }, () => reaches(t, vxlanC1(), vxlanC2(), 'vxlan c1→c2'));
});

test.serial('loss 100%: nothing crosses compute-1:net; heal removes the filter', async (t) => {
  await faultCycle(t, 'loss', { link: 'compute-1:net', percent: 100 }, () => blocked(t, vlanC1(), vlanC2(), 'vlan c1→c2'), () => reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2'));
});

test.serial('loss 50%: some but not all of 40 pings come back', async (t) => {
  await faultCycle(t, 'loss', { link: 'compute-1:net', percent: 50 }, async () => {
    const r = await ping(vlanC1().vmNetns, vlanC2().ip, { count: 40, intervalS: 0.02, waitS: 1 });
    t.true(r.received > 0 && r.received < 40, r.output);
  }, async () => {
    const r = await ping(vlanC1().vmNetns, vlanC2().ip, { count: 10, intervalS: 0.02 });
    t.true(r.received >= 9, r.output);
  });
});

test.serial('delay 100 ms on compute-1:net: RTT across it is at least 200 ms, VLAN tags survive the relay', async (t) => {
  await faultCycle(t, 'delay', { link: 'compute-1:net', ms: 100 }, async () => {
    const r = await ping(vlanC1().vmNetns, vlanC2().ip, { count: 3, waitS: 2 });
    t.true(r.received > 0, r.output);
    t.true(r.minMs >= 195, `min RTT ${r.minMs} ms`);
    t.true((await udhcpc(vlanC1().vmNetns)).ok);
  }, async () => {
    const r = await ping(vlanC1().vmNetns, vlanC2().ip, { count: 3 });
    t.true(r.received > 0 && r.minMs < 195, r.output);
  });
});

test.serial('an unknown fault or bad argument is a typed error and changes nothing', async (t) => {
  const e1 = await t.throwsAsync(labFault(lab.prefix, 'no-such-fault'));
  t.is((e1 as { code?: string }).code, 'EINVAL');
  const e2 = await t.throwsAsync(labFault(lab.prefix, 'loss', { link: 'compute-9:net' }));
  t.is((e2 as { code?: string }).code, 'ENOENT');
  const e3 = await t.throwsAsync(labFault(lab.prefix, 'loss', { percent: 140 }));
  t.is((e3 as { code?: string }).code, 'EINVAL');
  t.deepEqual((await loadLab(lab.prefix))!.faults, []);
  await reaches(t, vlanC1(), vlanC2(), 'vlan c1→c2');
});
