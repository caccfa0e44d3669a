/**
 * The lab as built: DHCP through the whole path on both tenant networks, VM↔VM
 * across compute nodes, the segmentation VLAN (and VXLAN VNI) on the tenant wire,
 * the generated steth.conf, agents reachable from the root namespace, idempotent up.
 * Checked with plain tools (udhcpc, ping, tcpdump), not with steth's probes.
 */
import anyTest from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { run } from '../../src/host/exec.js';
import { labUp } from '../../src/lab/index.js';
import { agentScript } from '../../src/lab/up.js';
import { needsRoot } from '../helpers/env.js';
import { useLab } from '../lab/fixture.js';
import { captureWhile, ping, udhcpc } from '../lab/tools.js';

const test = needsRoot(anyTest);
const lab = useLab(test);

test.serial('every VM gets its fixed IP from dnsmasq on the network node (VLAN and VXLAN networks)', async (t) => {
  const s = lab.state;
  t.true(s.ports.some((p) => s.networks.find((n) => n.id === p.networkId)!.type === 'vxlan'));
  for (const p of s.ports) {
    const net = s.networks.find((n) => n.id === p.networkId)!;
    const r = await udhcpc(p.vmNetns);
    t.true(r.ok, `${p.node} ${net.type} ${p.hybrid ? 'hybrid' : 'tap'} port: ${r.output}`);
    t.is(r.ip, p.ip);
    t.is(r.server, net.dhcp.ip);
  }
});

test.serial('VM to VM ping across compute nodes on the VLAN network (hybrid and non-hybrid)', async (t) => {
  const [c1h] = lab.ports({ node: 'compute-1', network: 'vlan', hybrid: true });
  const [c1tap] = lab.ports({ node: 'compute-1', network: 'vlan', hybrid: false });
  const [c2] = lab.ports({ node: 'compute-2', network: 'vlan' });
  const a = await ping(c1h!.vmNetns, c2!.ip);
  t.true(a.received > 0, a.output);
  const b = await ping(c1tap!.vmNetns, c2!.ip);
  t.true(b.received > 0, b.output);
});

test.serial('VM to VM ping across compute nodes on the VXLAN network', async (t) => {
  const [c1] = lab.ports({ node: 'compute-1', network: 'vxlan' });
  const [c2] = lab.ports({ node: 'compute-2', network: 'vxlan' });
  const r = await ping(c1!.vmNetns, c2!.ip);
  t.true(r.received > 0, r.output);
});

test.serial('the tenant wire carries the segmentation VLAN, not the local VLAN', async (t) => {
  const s = lab.state;
  const net = lab.network('vlan');
  const [c1] = lab.ports({ node: 'compute-1', network: 'vlan', hybrid: true });
  const [c2] = lab.ports({ node: 'compute-2', network: 'vlan' });
  const wire = s.switch.ports['compute-2']!.net;
  const out = await captureWhile(s.switch.netns, wire, ['vlan', 'and', 'icmp'], 1, (signal) =>
    run('ping', ['-n', '-c', '20', '-i', '0.2', c2!.ip], { netns: c1!.vmNetns, signal, allowFail: true }),
  );
  t.regex(out, new RegExp(`vlan ${net.segmentationId},`), out);
  t.regex(out, new RegExp(`${c1!.ip.replace(/\./g, '\\.')} > ${c2!.ip.replace(/\./g, '\\.')}: ICMP echo request`));
});

test.serial('the VXLAN network crosses the tenant wire untagged in UDP 4789 with its VNI', async (t) => {
  const s = lab.state;
  const net = lab.network('vxlan');
  const [c1] = lab.ports({ node: 'compute-1', network: 'vxlan' });
  const [c2] = lab.ports({ node: 'compute-2', network: 'vxlan' });
  const out = await captureWhile(s.switch.netns, s.switch.ports['compute-2']!.net, ['udp', 'port', '4789'], 1, (signal) =>
    run('ping', ['-n', '-c', '20', '-i', '0.2', c2!.ip], { netns: c1!.vmNetns, signal, allowFail: true }),
  );
  t.regex(out, new RegExp(`vni ${net.segmentationId}\\b`), out);
  t.notRegex(out, /vlan \d+,/);
});

test.serial('steth.conf lists every node with its agent URL and network-type addresses', (t) => {
  const s = lab.state;
  const conf = readFileSync(s.configPath, 'utf8');
  t.regex(conf, /^network_types = mgmt:eth0:10\.\d+\.0\.,net:eth1:10\.\d+\.1\.,storage:eth2:10\.\d+\.2\.$/m);
  t.regex(conf, new RegExp(`^token_file = ${s.tokenFile}$`, 'm'));
  for (const n of s.nodes) {
    const section = conf.split(`[agent ${n.name}]`)[1]?.split('\n[')[0] ?? '';
    t.regex(section, new RegExp(`^url = ${n.agentUrl.replace(/\./g, '\\.')}$`, 'm'));
    t.regex(section, new RegExp(`^role = ${n.role}$`, 'm'));
    t.regex(section, new RegExp(`^net_address = ${n.addresses.net}$`, 'm'));
    t.regex(section, new RegExp(`^storage_address = ${n.addresses.storage}$`, 'm'));
  }
});

test.serial('each agent answers agent.hello on its mgmt address from the root namespace', async (t) => {
  t.true(existsSync(agentScript()), 'tests run from dist/, where the agent is built: the lab starts one per node');
  const s = lab.state;
  for (const n of s.nodes) {
    const res = await fetch(n.agentUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.hello', params: {} }),
    });
    const body = (await res.json()) as { result?: { nodeName?: string; ovsdb?: string } };
    t.is(body.result?.nodeName, n.name);
    t.is(body.result?.ovsdb, n.ovsdb);
  }
});

test.serial('up on a lab that is already up returns it unchanged: same daemons, still running', async (t) => {
  const daemons = (s: typeof lab.state): number[] => [
    s.switch.pids.ovsdb,
    s.switch.pids.vswitchd,
    ...s.nodes.flatMap((n) => [n.pids.ovsdb, n.pids.vswitchd, ...(n.agentPid === undefined ? [] : [n.agentPid])]),
    ...s.networks.map((n) => n.dhcp.pid).filter((p): p is number => p !== undefined),
  ];
  const before = daemons(lab.state);
  const again = await labUp({ prefix: lab.prefix });
  t.is(again.createdAt, lab.state.createdAt);
  t.deepEqual(again.ports.map((p) => p.id), lab.state.ports.map((p) => p.id));
  t.deepEqual(daemons(again), before, 'no daemon was restarted');
  for (const pid of before) t.true(existsSync(`/proc/${pid}`), `PID ${pid} still runs`);
});
