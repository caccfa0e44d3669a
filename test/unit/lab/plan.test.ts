/**
 * Pure lab logic: spec defaults/validation, the naming and address plan, generated
 * steth.conf, OVS agent flows, fault names/arguments. No root, no host changes.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderStethConf } from '../../../src/lab/conf.js';
import { assertFaultName } from '../../../src/lab/faults.js';
import { brIntFlows, brPhysFlows, brTunFlows } from '../../../src/lab/flows.js';
import { quiet } from '../../../src/lab/ip6.js';
import { assertPrefix, planLab, portOf, resolveSpec, tunnelPortName } from '../../../src/lab/spec.js';
import { FAULT_NAMES } from '../../../src/lab/types.js';
import { parseFaultArgs, readSpecFile } from '../../../src/cli/commands/lab.js';

const code = (e: unknown): string | undefined => (e as { code?: string }).code;

test('resolveSpec fills the defaults the issue names', (t) => {
  const s = resolveSpec();
  t.is(s.prefix, 'stl');
  t.is(s.vlanSegmentationId, 100);
  t.is(s.vxlanMtu, 1450);
  t.true(s.trunkedVlans.includes(100));
  t.true(s.vms.some((v) => !v.hybrid), 'at least one non-hybrid VM');
  t.true(s.vms.some((v) => v.network === 'vxlan'));
  t.deepEqual([...new Set(s.vms.map((v) => v.node))].sort(), ['compute-1', 'compute-2']);
});

test('resolveSpec rejects bad input with EINVAL', (t) => {
  for (const bad of [{ prefix: 'Bad' }, { prefix: 'toolongprefix' }, { prefix: 'a;b' }, { vlanSegmentationId: 4095 }, { vxlanVni: 0 }, { vxlanMtu: 1500 }, { trunkedVlans: [5000] },
    { vms: [] }, { vms: [{ node: 'network-1', network: 'vlan' as const, hybrid: true }] }, { agentPort: 70000 }, { octet: 0 }]) {
    t.is(code(t.throws(() => resolveSpec(bad as never))), 'EINVAL', JSON.stringify(bad));
  }
  t.is(assertPrefix('t1a2b3c'), 't1a2b3c');
});

test('planLab: every interface name fits IFNAMSIZ, Neutron device names are kind + 11 chars of the port id', (t) => {
  const s = planLab(resolveSpec({ prefix: 'abcdefgh' }), 77, 'tok');
  const names = [s.root.iface, ...Object.values(s.switch.ports).flatMap((p) => [p.mgmt, p.net, p.storage]), ...s.networks.map((n) => n.dhcp.iface),
    ...s.ports.flatMap((p) => Object.values(p.devices)), ...s.nodes.flatMap((n) => Object.values(n.ofPorts.vxlan))];
  for (const n of names) t.true(n.length <= 15, n);
  for (const p of s.ports) {
    t.is(p.devices.tap, `tap${p.id.slice(0, 11)}`);
    t.is(p.devices.tap.length, 14);
    if (p.hybrid) t.deepEqual([p.devices.qbr, p.devices.qvb, p.devices.qvo], ['qbr', 'qvb', 'qvo'].map((k) => `${k}${p.id.slice(0, 11)}`));
    else t.is(p.devices.qvo, undefined);
    t.regex(p.mac, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  }
  t.is(new Set(s.netnsList).size, s.netnsList.length);
  t.true(s.networks.every((n) => s.netnsList.includes(`qdhcp-${n.id}`)));
});

test('planLab: addresses live in the lab own 10.X.0.0/16, IPs are unique, local VLANs differ per node', (t) => {
  const s = planLab(resolveSpec({ prefix: 'p' }), 93, 'tok');
  const ips = [...s.nodes.flatMap((n) => Object.values(n.addresses)), ...s.ports.map((p) => p.ip), ...s.networks.map((n) => n.dhcp.ip), s.root.address];
  for (const ip of ips) t.true(ip.startsWith('10.93.'), ip);
  t.is(new Set(ips.filter((_, i) => i >= 9)).size, ips.length - 9);
  const vlan = s.networks.find((n) => n.type === 'vlan')!;
  t.is(new Set(Object.values(vlan.localVlan)).size, 3);
  t.is(s.networks.find((n) => n.type === 'vxlan')!.mtu, 1450);
  t.is(s.nodes[1]!.agentUrl, 'http://10.93.0.2:9698/');
});

test('portOf accepts a full id, a unique prefix or the VM namespace; unknown is ENOENT', (t) => {
  const s = planLab(resolveSpec({ prefix: 'p' }), 93, 'tok');
  const p = s.ports[2]!;
  t.is(portOf(s, p.id), p);
  t.is(portOf(s, p.id.slice(0, 8)), p);
  t.is(portOf(s, p.vmNetns), p);
  t.is(code(t.throws(() => portOf(s, 'zzzzzzzz'))), 'ENOENT');
});

test('steth.conf lists each node as [agent NAME] with the contract keys', (t) => {
  const s = planLab(resolveSpec({ prefix: 'p' }), 93, 'c0ffee5ecret');
  const conf = renderStethConf(s);
  t.regex(conf, /^network_types = mgmt:eth0:10\.93\.0\.,net:eth1:10\.93\.1\.,storage:eth2:10\.93\.2\.$/m);
  for (const n of s.nodes) {
    t.true(conf.includes(`[agent ${n.name}]\nurl = ${n.agentUrl}\nrole = ${n.role}\nmgmt_address = ${n.addresses.mgmt}\nnet_address = ${n.addresses.net}`));
  }
  t.false(conf.includes('c0ffee5ecret'), 'the token stays in the token file');
});

test('flows: br-eth1 maps local VLAN → segmentation id, br-int maps it back, br-tun carries the VNI', (t) => {
  const s = planLab(resolveSpec({ prefix: 'p', vlanSegmentationId: 321, vxlanVni: 5000 }), 93, 'tok');
  const n = s.nodes[1]!;
  const vlan = s.networks.find((x) => x.type === 'vlan')!;
  const vx = s.networks.find((x) => x.type === 'vxlan')!;
  t.true(brPhysFlows(s, n).includes(`table=0,priority=4,in_port=phy-br-eth1,dl_vlan=${vlan.localVlan[n.name]},actions=mod_vlan_vid:321,NORMAL`));
  t.true(brIntFlows(s, n).includes(`table=0,priority=3,in_port=int-br-eth1,dl_vlan=321,actions=mod_vlan_vid:${vlan.localVlan[n.name]},NORMAL`));
  const tun = brTunFlows(s, n).join('\n');
  t.regex(tun, new RegExp(`tun_id=5000,actions=mod_vlan_vid:${vx.localVlan[n.name]}`));
  t.regex(tun, /set_field:5000->tun_id,output:vxlan-[0-9a-f]{8},output:vxlan-[0-9a-f]{8}/);
  t.is(tunnelPortName('10.1.2.3'), 'vxlan-0a010203');
});

test('quiet() puts addrgenmode none before every link-up except lo', (t) => {
  t.deepEqual(quiet(['link set lo up', 'link set eth0 mtu 1450 up', 'addr add 10.1.1.1/24 dev eth0', 'link set x master br0 up', 'link set y down']), [
    'link set lo up', 'link set dev eth0 addrgenmode none', 'link set eth0 mtu 1450 up', 'addr add 10.1.1.1/24 dev eth0', 'link set dev x addrgenmode none', 'link set x master br0 up', 'link set y down',
  ]);
});

test('fault names are exactly the contract list; anything else is EINVAL', (t) => {
  t.deepEqual([...FAULT_NAMES], ['vlan-translation', 'vlan-not-trunked', 'dnsmasq-stopped', 'mac-missing', 'qvo-removed', 'tap-detached', 'dead-vlan', 'mtu-mismatch', 'nic-down',
    'vswitchd-stopped', 'vxlan-remote-wrong', 'underlay-missing', 'loss', 'delay']);
  for (const n of FAULT_NAMES) t.is(assertFaultName(n), n);
  t.is(code(t.throws(() => assertFaultName('rm -rf'))), 'EINVAL');
});

test('CLI: fault KEY=VALUE arguments and spec files are validated', async (t) => {
  t.deepEqual(parseFaultArgs(['link=compute-1:net', 'percent=30']), { link: 'compute-1:net', percent: '30' });
  t.is(code(t.throws(() => parseFaultArgs(['percent']))), 'EINVAL');
  const dir = mkdtempSync(join(tmpdir(), 'lab-spec-'));
  writeFileSync(join(dir, 'ok.yaml'), 'vlanSegmentationId: 200\ntrunkedVlans: [200, 201]\nvms:\n  - {node: compute-1, network: vlan, hybrid: false}\n');
  t.deepEqual(await readSpecFile(join(dir, 'ok.yaml')), { vlanSegmentationId: 200, trunkedVlans: [200, 201], vms: [{ node: 'compute-1', network: 'vlan', hybrid: false }] });
  writeFileSync(join(dir, 'bad.json'), '{"vlanSegmentationID": 200}');
  t.is(code(await t.throwsAsync(readSpecFile(join(dir, 'bad.json')))), 'ECONFIG');
  t.is(code(await t.throwsAsync(readSpecFile(join(dir, 'missing.json')))), 'ENOENT');
});
