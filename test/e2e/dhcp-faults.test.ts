/**
 * Each lab fault gives its own diagnosis at the right hop. One lab for the file; every
 * test applies one fault, runs `steth check-dhcp`, and heals (also when it fails).
 * Bad input (unknown / malformed port id, unreachable agent) is here too: it needs the lab.
 */
import anyTest, { type ExecutionContext } from 'ava';
import { needsRoot } from '../helpers/env.js';
import { useLab } from '../lab/fixture.js';
import { labFault, labHeal, type FaultArgs, type FaultName } from '../../src/lab/index.js';
import { agentPacketSockets, row, rows, steth, type StethRun } from './dhcp-helpers.js';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const test = needsRoot(anyTest);
const lab = useLab(test);

const vlanPort = () => lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
const vxlanPort = () => lab.ports({ node: 'compute-1', hybrid: true, network: 'vxlan' })[0]!;

async function withFault(t: ExecutionContext, name: FaultName, args: FaultArgs, fn: () => Promise<void>): Promise<void> {
  await labFault(lab.prefix, name, args);
  try {
    await fn();
  } finally {
    await labHeal(lab.prefix);
  }
  t.pass();
}

function broken(t: ExecutionContext, r: StethRun, role: string, summary: RegExp): void {
  t.is(r.code, 1, `exit 1 (fault found): ${r.json?.verdict ?? r.stderr}`);
  t.false(r.json.ok);
  t.is(r.json.data.verdict.brokenAt?.role, role, r.json.verdict);
  t.regex(r.json.verdict, summary);
}

test.serial('vlan-translation: DISCOVER left the compute NIC tagged 101, segmentation id 100', async (t) => {
  const seg = lab.network('vlan').segmentationId;
  await withFault(t, 'vlan-translation', { node: 'compute-1', network: 'vlan', vid: seg + 1 }, async () => {
    const r = await steth(lab, ['check-dhcp', vlanPort().id, '--wait', '1500']);
    broken(t, r, 'compute-uplink', new RegExp(`^DISCOVER left compute-1 ${lab.node('compute-1').nics.net} tagged ${seg + 1}, network segmentation id is ${seg}: check VLAN translation flows on br-eth1$`));
    t.is(row(r, 'compute-uplink').discoverTags, String(seg + 1));
  });
});

test.serial('vlan-not-trunked: left compute-1 tagged 100, never reached network-1', async (t) => {
  const seg = lab.network('vlan').segmentationId;
  await withFault(t, 'vlan-not-trunked', { node: 'compute-1', vlan: seg }, async () => {
    const r = await steth(lab, ['check-dhcp', vlanPort().id, '--wait', '1500']);
    broken(t, r, 'dhcp-uplink', new RegExp(`left compute-1 \\S+ tagged ${seg} but never reached network-1 \\S+: VLAN ${seg} not trunked`));
  });
});

test.serial('dnsmasq-stopped: DISCOVER reached the qdhcp port, no OFFER, dnsmasq not running', async (t) => {
  await withFault(t, 'dnsmasq-stopped', { network: 'vlan' }, async () => {
    const r = await steth(lab, ['check-dhcp', vlanPort().id, '--wait', '1500']);
    broken(t, r, 'qdhcp', /^DISCOVER reached the qdhcp port .*, no OFFER: dnsmasq not running in qdhcp-/);
    t.is(row(r, 'qdhcp').discover, true);
  });
});

test.serial('mac-missing: DISCOVER reached the qdhcp port, no OFFER, MAC not in the hostsfile', async (t) => {
  const port = vlanPort();
  await withFault(t, 'mac-missing', { port: port.id }, async () => {
    const r = await steth(lab, ['check-dhcp', port.id, '--wait', '1500']);
    broken(t, r, 'qdhcp', new RegExp(`no OFFER: MAC ${port.mac} not in its hostsfile$`));
  });
});

test.serial('qvo-removed: the port is on no bridge; with --mac the DISCOVER stops after qvo', async (t) => {
  const port = vlanPort();
  await withFault(t, 'qvo-removed', { port: port.id }, async () => {
    const bare = await steth(lab, ['check-dhcp', port.id, '--wait', '1500']);
    t.is(bare.code, 1, bare.json?.verdict ?? bare.stderr);
    t.true(bare.json.data.verdict.causes.some((c: string) => /qvo missing from br-int/.test(c)), bare.json.verdict);
    const r = await steth(lab, ['check-dhcp', port.id, '--mac', port.mac, '--wait', '1500']);
    broken(t, r, 'compute-uplink', /^DISCOVER seen at compute-1 qvo\S+, not at compute-1 \S+: qvo missing from br-int$/);
  });
});

test.serial('tap-detached: the OFFER reached qbr, not the tap', async (t) => {
  const port = vlanPort();
  await withFault(t, 'tap-detached', { port: port.id }, async () => {
    const r = await steth(lab, ['check-dhcp', port.id, '--wait', '1500']);
    broken(t, r, 'tap', /^OFFER reached qbr\S+, not tap\S+: tap detached from qbr/);
    t.is(row(r, 'qbr').offer, true);
    t.is(row(r, 'tap').offer, false);
  });
});

test.serial('dead-vlan: port tag 4095, seen at qvo, dropped by br-int', async (t) => {
  const port = vlanPort();
  await withFault(t, 'dead-vlan', { port: port.id }, async () => {
    const r = await steth(lab, ['check-dhcp', port.id, '--wait', '1500']);
    broken(t, r, 'compute-uplink', /port tag 4095: port not bound\/wired$/);
    t.is(row(r, 'qvo').discover, true);
  });
});

test.serial('nic-down: the compute tenant NIC is down and named', async (t) => {
  await withFault(t, 'nic-down', { node: 'compute-1', nic: 'net' }, async () => {
    const r = await steth(lab, ['check-dhcp', vlanPort().id, '--wait', '1500']);
    t.is(r.code, 1, r.json?.verdict ?? r.stderr);
    t.regex(r.json.verdict, new RegExp(`${lab.node('compute-1').nics.net} on compute-1 is down$`));
    t.regex(row(r, 'compute-uplink').note, /not observable/);
  });
});

test.serial('vswitchd-stopped on compute-1: seen at qvo, nothing forwards it', async (t) => {
  await withFault(t, 'vswitchd-stopped', { node: 'compute-1' }, async () => {
    const r = await steth(lab, ['check-dhcp', vlanPort().id, '--wait', '1500']);
    broken(t, r, 'compute-uplink', /ovs-vswitchd not running on compute-1$/);
  });
});

test.serial('vxlan-remote-wrong: the tunnel to the network node points elsewhere', async (t) => {
  const port = vxlanPort();
  await withFault(t, 'vxlan-remote-wrong', { node: 'compute-1', peer: 'network-1' }, async () => {
    const r = await steth(lab, ['check-dhcp', port.id, '--wait', '1500']);
    t.is(r.code, 1, r.json?.verdict ?? r.stderr);
    t.is(r.json.data.verdict.brokenAt?.node, 'compute-1', r.json.verdict);
    t.regex(`${r.json.verdict} ${r.json.data.verdict.causes.join(' ')}`, /remote_ip/);
  });
});

test.serial('healed lab passes again and no capture is left open on any agent', async (t) => {
  const before = await agentPacketSockets(lab);
  const r = await steth(lab, ['check-dhcp', vlanPort().id]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.is(await agentPacketSockets(lab), before);
});

test.serial('unknown port id: ENOENT, exit 2-4 class error, no capture armed', async (t) => {
  const before = await agentPacketSockets(lab);
  const r = await steth(lab, ['check-dhcp', '0f0f0f0f-0000-4000-8000-000000000000']);
  t.not(r.code, 0);
  t.not(r.code, 1);
  t.is(r.json?.error?.code, 'ENOENT', r.stdout + r.stderr);
  t.regex(r.json.error.message, /not plugged on any agent/);
  t.is(await agentPacketSockets(lab), before);
});

test.serial('malformed port id: usage error (exit 2), nothing sent', async (t) => {
  const r = await steth(lab, ['check-dhcp', 'not-a-uuid;reboot']);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.is(r.json?.error?.code, 'EINVAL');
});

test.serial('bad network type in the original form: usage error', async (t) => {
  const r = await steth(lab, ['check-dhcp-on-comp', vlanPort().id, 'eth1', 'gre']);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.json?.error?.message ?? '', /not supported/);
});

test.serial('capture point missing (a NIC that does not exist): partial table saying what could not be observed, nothing left behind', async (t) => {
  const before = await agentPacketSockets(lab);
  const r = await steth(lab, ['check-dhcp-on-comp', vlanPort().id, 'nosuch0', 'vlan']);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.regex(r.json.verdict, /1 hop not observed/);
  const up = row(r, 'compute-uplink');
  t.is(up.discover, null);
  t.regex(up.note, /not observable: nosuch0 does not exist/);
  t.is(row(r, 'qvo').discover, true);
  t.is(await agentPacketSockets(lab), before);
});

/** Packet sockets the agent holds in its own namespace now (its NIC captures). */
function ownPacketSockets(pid: number): number {
  const inodes = new Set(
    readFileSync(`/proc/${pid}/net/packet`, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).pop())
      .filter((x): x is string => x !== undefined && x !== ''),
  );
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

test.serial('network node agent stops answering mid-check (its captures armed): partial table, then no capture left anywhere', async (t) => {
  const net = lab.node('network-1');
  const pid = net.agentPid!;
  const before = await agentPacketSockets(lab);
  const baseline = ownPacketSockets(pid);
  // no OFFER will come: the exchange waits out its 3 s, a window in which network-1 is armed
  await labFault(lab.prefix, 'dnsmasq-stopped', { network: 'vlan' });
  let stopped = false;
  try {
    const check = steth(lab, ['--timeout', '2', 'check-dhcp', vlanPort().id, '--wait', '3000']);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && ownPacketSockets(pid) <= baseline) await new Promise((r) => setTimeout(r, 2));
    t.true(ownPacketSockets(pid) > baseline, 'network-1 armed its capture');
    process.kill(pid, 'SIGSTOP');
    stopped = true;
    const r = await check;
    // no OFFER is a fault found (exit 1); the verdict says whose hops are missing and why
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(r.json.verdict, /^no OFFER came back .*\(agent network-1 stopped answering mid-check: its hops not observed\)$/);
    // the compute node's hops were observed; network-1's are marked as not observed
    t.is(row(r, 'qvo').discover, true, 'compute hops still observed');
    for (const x of rows(r).filter((y) => y.node === 'network-1')) t.is(x.discover, null, `${x.role} on network-1 is "not observed", not "not seen"`);
  } finally {
    if (stopped) process.kill(pid, 'SIGCONT');
    await labHeal(lab.prefix);
  }
  // nothing left behind: compute-1 closed its captures at once; network-1's are closed when
  // it resumes (the late collect) or when their leases expire (30 s)
  const deadline = Date.now() + 45_000;
  let now = await agentPacketSockets(lab);
  while (now !== before && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    now = await agentPacketSockets(lab);
  }
  t.is(now, before);
});

test.serial('network node agent unreachable: partial table, its hops marked not observed, compute hops still shown', async (t) => {
  const net = lab.node('network-1');
  const pid = net.agentPid!;
  process.kill(pid, 'SIGSTOP');
  try {
    const r = await steth(lab, ['--timeout', '2', 'check-dhcp', vlanPort().id, '--wait', '1000']);
    t.is(r.code, 4, r.stdout + r.stderr);
    t.regex(r.json.verdict, /agent network-1 unreachable/);
    t.is(row(r, 'qvo').discover, true, 'compute hops still observed');
    t.true(r.json.data.port.warnings.some((w: string) => /network-1/.test(w)), JSON.stringify(r.json.data.port.warnings));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
});
