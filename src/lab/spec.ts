/**
 * Pure planning: spec defaults and validation, and the full naming/address plan of a
 * lab (every namespace, link, address, port id) computed before anything is created,
 * so `down` can remove a half-built lab from the state file alone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { StethError, invalid } from '../errors.js';
import { assertVlanId, printable } from '../validate.js';
import type { LabNetwork, LabNode, LabPort, LabSpec, LabState, NodeRole, TenantNetworkType, VmSpec } from './types.js';

export const DEFAULT_PREFIX = 'stl';
export const DEFAULT_BASE_DIR = '/run/steth-lab';
export const NODE_NAMES: readonly { name: string; role: NodeRole; short: string }[] = [
  { name: 'network-1', role: 'network', short: 'net1' },
  { name: 'compute-1', role: 'compute', short: 'cmp1' },
  { name: 'compute-2', role: 'compute', short: 'cmp2' },
];

export const DEFAULT_VMS: readonly VmSpec[] = [
  { node: 'compute-1', network: 'vlan', hybrid: true },
  { node: 'compute-1', network: 'vxlan', hybrid: true },
  { node: 'compute-1', network: 'vlan', hybrid: false },
  { node: 'compute-2', network: 'vlan', hybrid: true },
  { node: 'compute-2', network: 'vxlan', hybrid: true },
];

/** Lab prefixes: short, lower-case, so every derived interface name fits IFNAMSIZ. */
export function assertPrefix(p: unknown): string {
  if (typeof p !== 'string' || !/^[a-z][a-z0-9]{0,7}$/.test(p)) {
    throw invalid(`lab prefix '${printable(String(p))}' is not valid`, 'use 1..8 characters [a-z0-9], starting with a letter');
  }
  return p;
}

export function resolveSpec(partial: Partial<LabSpec> = {}, prefix?: string): LabSpec {
  const p = assertPrefix(prefix ?? partial.prefix ?? DEFAULT_PREFIX);
  const seg = assertVlanId(partial.vlanSegmentationId ?? 100);
  const vni = partial.vxlanVni ?? 1001;
  if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw invalid(`VNI ${vni} is out of range 1..16777215`);
  const mtu = partial.vxlanMtu ?? 1450;
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 1450) throw invalid(`VXLAN network MTU ${mtu} is out of range 576..1450`);
  const trunked = (partial.trunkedVlans ?? [seg, ...range(101, 110).filter((v) => v !== seg)]).map((v) => assertVlanId(v));
  const vms = partial.vms ?? DEFAULT_VMS.map((v) => ({ ...v }));
  if (vms.length === 0) throw invalid('a lab needs at least one VM');
  if (vms.length > 16) throw invalid('at most 16 VMs per lab');
  for (const vm of vms) {
    if (!NODE_NAMES.some((n) => n.name === vm.node && n.role === 'compute')) throw invalid(`VM node '${printable(String(vm.node))}' is not a compute node`, 'use compute-1 or compute-2');
    if (vm.network !== 'vlan' && vm.network !== 'vxlan') throw invalid(`VM network '${printable(String(vm.network))}' is not vlan or vxlan`);
    if (typeof vm.hybrid !== 'boolean') throw invalid('VM hybrid must be true or false');
  }
  const port = partial.agentPort ?? 9698;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`agent port ${port} is out of range`);
  if (partial.octet !== undefined && (!Number.isInteger(partial.octet) || partial.octet < 1 || partial.octet > 254)) {
    throw invalid(`octet ${partial.octet} is out of range 1..254`);
  }
  const spec: LabSpec = {
    prefix: p,
    vlanSegmentationId: seg,
    vxlanVni: vni,
    vxlanMtu: mtu,
    trunkedVlans: [...new Set(trunked)].sort((a, b) => a - b),
    vms,
    agents: partial.agents ?? true,
    agentPort: port,
    baseDir: partial.baseDir ?? DEFAULT_BASE_DIR,
  };
  if (partial.octet !== undefined) spec.octet = partial.octet;
  return spec;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/** Neutron's OUI fa:16:3e + 3 random bytes. */
export function neutronMac(): string {
  return ['fa', '16', '3e', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export const devName = (kind: 'tap' | 'qbr' | 'qvb' | 'qvo', portId: string): string => `${kind}${portId.slice(0, 11)}`;

/** 'vxlan-' + remote underlay as 8 hex digits, as the OVS agent names tunnel ports. */
export function tunnelPortName(remoteIp: string): string {
  return `vxlan-${remoteIp.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
}

/** Plan every name and address of a lab (nothing is created here). */
export function planLab(spec: LabSpec, octet: number, token: string): LabState {
  const X = octet;
  const dir = join(spec.baseDir, spec.prefix);
  const pre = spec.prefix;
  const nodes: LabNode[] = NODE_NAMES.map((n, i) => {
    const rundir = join(dir, n.name);
    return {
      name: n.name,
      role: n.role,
      netns: `${pre}-${n.name}`,
      ovsdb: `unix:${join(rundir, 'db.sock')}`,
      rundir,
      agentUrl: `http://10.${X}.0.${i + 1}:${spec.agentPort}/`,
      pids: { ovsdb: 0, vswitchd: 0 },
      addresses: { mgmt: `10.${X}.0.${i + 1}`, net: `10.${X}.1.${i + 1}`, storage: `10.${X}.2.${i + 1}` },
      nics: { mgmt: 'eth0', net: 'eth1', storage: 'eth2' },
      underlay: `10.${X}.1.${i + 1}`,
      underlayIface: 'br-eth1',
      localVlans: {},
      ofPorts: { intToPhys: 'int-br-eth1', physToInt: 'phy-br-eth1', intToTun: 'patch-tun', tunToInt: 'patch-int', vxlan: {} },
    };
  });
  for (const n of nodes) {
    for (const m of nodes) if (m !== n) n.ofPorts.vxlan[m.name] = tunnelPortName(m.underlay);
  }
  const network = nodes[0]!;
  const mkNet = (type: TenantNetworkType): LabNetwork => {
    const id = randomUUID();
    const third = type === 'vlan' ? 100 : 200;
    const dhcpPortId = randomUUID();
    const localVlan: Record<string, number> = {};
    // Local VLANs differ per node (as a real OVS agent's would), so translation matters.
    nodes.forEach((n, i) => {
      localVlan[n.name] = type === 'vlan' ? 1 + i : 5 + i;
      n.localVlans[id] = localVlan[n.name]!;
    });
    const net: LabNetwork = {
      id,
      name: `${pre}-${type}-net`,
      type,
      segmentationId: type === 'vlan' ? spec.vlanSegmentationId : spec.vxlanVni,
      cidr: `10.${X}.${third}.0/24`,
      gateway: `10.${X}.${third}.1`,
      mtu: type === 'vlan' ? 1500 : spec.vxlanMtu,
      localVlan,
      dhcp: {
        node: network.name,
        netns: `qdhcp-${id}`,
        iface: devName('tap', dhcpPortId),
        mac: neutronMac(),
        ip: `10.${X}.${third}.2`,
        portId: dhcpPortId,
        hostsFile: join(dir, 'dhcp', id, 'host'),
      },
    };
    if (type === 'vlan') net.physicalNetwork = 'physnet1';
    return net;
  };
  const networks = [mkNet('vlan'), mkNet('vxlan')];
  const hostCounter: Record<string, number> = { vlan: 10, vxlan: 10 };
  const ports: LabPort[] = spec.vms.map((vm) => {
    const id = randomUUID();
    const net = networks.find((n) => n.type === vm.network)!;
    const third = vm.network === 'vlan' ? 100 : 200;
    const host = hostCounter[vm.network]!++;
    const devices: LabPort['devices'] = { tap: devName('tap', id) };
    if (vm.hybrid) {
      devices.qbr = devName('qbr', id);
      devices.qvb = devName('qvb', id);
      devices.qvo = devName('qvo', id);
    }
    return {
      id,
      mac: neutronMac(),
      ip: `10.${X}.${third}.${host}`,
      node: vm.node,
      networkId: net.id,
      hybrid: vm.hybrid,
      vmNetns: `${pre}-vm-${id.slice(0, 8)}`,
      vmIface: 'eth0',
      devices,
      vmUuid: randomUUID(),
    };
  });
  const swRundir = join(dir, 'switch');
  const swPorts: LabState['switch']['ports'] = {};
  for (const n of NODE_NAMES) swPorts[n.name] = { mgmt: `${n.short}-m`, net: `${n.short}-n`, storage: `${n.short}-s` };
  return {
    version: 1,
    prefix: pre,
    dir,
    configPath: join(dir, 'steth.conf'),
    token,
    tokenFile: join(dir, 'token'),
    octet: X,
    createdAt: new Date().toISOString(),
    phase: 'partial',
    switch: {
      netns: `${pre}-switch`,
      ovsdb: `unix:${join(swRundir, 'db.sock')}`,
      rundir: swRundir,
      pids: { ovsdb: 0, vswitchd: 0 },
      netBridge: 'br-net',
      mgmtBridge: 'br-mgmt',
      storageBridge: 'br-storage',
      ports: swPorts,
    },
    root: { iface: `${pre}-mgmt`, address: `10.${X}.0.254` },
    nodes,
    networks,
    ports,
    trunkedVlans: spec.trunkedVlans,
    netnsList: [`${pre}-switch`, ...nodes.map((n) => n.netns), ...networks.map((n) => n.dhcp.netns), ...ports.map((p) => p.vmNetns)],
    extraPids: [],
    faults: [],
  };
}

export function nodeOf(state: LabState, name: string): LabNode {
  const n = state.nodes.find((x) => x.name === name);
  if (!n) throw new StethError('ENOENT', `no node '${printable(name)}' in lab ${state.prefix}`, { hint: `nodes: ${state.nodes.map((x) => x.name).join(', ')}` });
  return n;
}

export function networkOf(state: LabState, idOrType: string): LabNetwork {
  const n = state.networks.find((x) => x.id === idOrType || x.type === idOrType || x.name === idOrType);
  if (!n) throw new StethError('ENOENT', `no network '${printable(idOrType)}' in lab ${state.prefix}`, { hint: 'use vlan, vxlan or a network id' });
  return n;
}

/** A port by full id, unique id prefix, or its VM netns. */
export function portOf(state: LabState, ref: string): LabPort {
  const hits = state.ports.filter((p) => p.id === ref || p.vmNetns === ref || (ref.length >= 4 && p.id.startsWith(ref)));
  if (hits.length !== 1) {
    throw new StethError('ENOENT', hits.length === 0 ? `no port '${printable(ref)}' in lab ${state.prefix}` : `port '${printable(ref)}' is ambiguous`, {
      hint: `ports: ${state.ports.map((p) => p.id.slice(0, 8)).join(', ')}`,
    });
  }
  return hits[0]!;
}
