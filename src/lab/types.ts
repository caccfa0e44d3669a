/**
 * The lab's public shapes: LabSpec (what to build; every field has a default) and
 * LabState (what was built; JSON in the lab dir, e.g. /run/steth-lab/PREFIX/state.json).
 * Tests, probes' e2e tests, the demo and the benchmarks read LabState; nothing else
 * should guess names or addresses.
 *
 * Address plan inside one lab (X = the lab's own second octet, unique per live lab):
 *   10.X.0.0/24   mgmt     node i: 10.X.0.(i+1), root-namespace veth 10.X.0.254
 *   10.X.1.0/24   net      tenant underlay (VXLAN endpoints) on br-eth1's internal port
 *   10.X.2.0/24   storage
 *   10.X.100.0/24 tenant VLAN network (gateway .1, DHCP port .2, VMs from .10)
 *   10.X.200.0/24 tenant VXLAN network (same layout, MTU 1450)
 */

export type NodeRole = 'network' | 'compute';
export type NetworkKind = 'mgmt' | 'net' | 'storage';
export type TenantNetworkType = 'vlan' | 'vxlan';

export const FAULT_NAMES = [
  'vlan-translation',
  'vlan-not-trunked',
  'dnsmasq-stopped',
  'mac-missing',
  'qvo-removed',
  'tap-detached',
  'dead-vlan',
  'mtu-mismatch',
  'nic-down',
  'vswitchd-stopped',
  'vxlan-remote-wrong',
  'underlay-missing',
  'loss',
  'delay',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** A VM to create: one port on one tenant network. */
export interface VmSpec {
  /** node name, e.g. 'compute-1' */
  node: string;
  /** which tenant network: 'vlan' or 'vxlan' (the two networks the lab builds) */
  network: TenantNetworkType;
  /** true: tap on qbr + qvb/qvo veth (Neutron hybrid plugging); false: tap directly on br-int */
  hybrid: boolean;
}

export interface LabSpec {
  /** short lab prefix, [a-z][a-z0-9]{0,7}; names of namespaces/links derive from it (CLI default 'stl') */
  prefix: string;
  /** segmentation id of the VLAN tenant network (default 100) */
  vlanSegmentationId: number;
  /** VNI of the VXLAN tenant network (default 1001) */
  vxlanVni: number;
  /** MTU of the VXLAN tenant network (default 1450) */
  vxlanMtu: number;
  /** VLANs the tenant ("net") physical switch trunks on every node port (default [vlanSegmentationId, 101..110]).
   *  Untagged frames (the VXLAN underlay) always pass. */
  trunkedVlans: number[];
  /** VMs to create (default: on compute-1 a hybrid VLAN VM, a hybrid VXLAN VM and a non-hybrid VLAN VM;
   *  on compute-2 a hybrid VLAN VM and a hybrid VXLAN VM) */
  vms: VmSpec[];
  /** start a steth-agent in every node namespace (default true when dist/bin/steth-agent.js exists) */
  agents: boolean;
  /** agent port (default 9698) */
  agentPort: number;
  /** second octet X of the lab's 10.X.0.0/16; default: the first one no other lab and no root route uses */
  octet?: number;
  /** where lab dirs live (default /run/steth-lab) */
  baseDir: string;
}

export interface LabNode {
  /** 'network-1' | 'compute-1' | 'compute-2' */
  name: string;
  role: NodeRole;
  /** the node's network namespace */
  netns: string;
  /** 'unix:DIR/db.sock' for ovs-vsctl --db= */
  ovsdb: string;
  /** the node's OVS run dir (db.sock, ovs-vswitchd.ctl, pids, logs); OVS_RUNDIR for ovs-ofctl */
  rundir: string;
  /** 'http://10.X.0.N:9698/' */
  agentUrl: string;
  /** pid of the node's steth-agent when running (else absent) */
  agentPid?: number;
  /** pids of ovsdb-server / ovs-vswitchd */
  pids: { ovsdb: number; vswitchd: number };
  addresses: { mgmt: string; net: string; storage: string };
  /** NIC names inside the node namespace: mgmt eth0, net eth1 (on br-eth1), storage eth2 */
  nics: { mgmt: string; net: string; storage: string };
  /** VXLAN underlay address (== addresses.net), on the internal port `underlayIface` */
  underlay: string;
  underlayIface: string;
  /** local VLAN per tenant network id on this node's br-int */
  localVlans: Record<string, number>;
  /** OpenFlow port names: br-int↔br-eth1 patch ports, br-int↔br-tun patch ports, tunnels by remote node */
  ofPorts: { intToPhys: string; physToInt: string; intToTun: string; tunToInt: string; vxlan: Record<string, string> };
}

export interface LabNetwork {
  /** UUID (Neutron-style) */
  id: string;
  name: string;
  type: TenantNetworkType;
  /** VLAN id on the wire (vlan) or VNI (vxlan) */
  segmentationId: number;
  /** provider physical network of VLAN networks ('physnet1' → br-eth1) */
  physicalNetwork?: string;
  cidr: string;
  gateway: string;
  mtu: number;
  /** local VLAN on br-int per node name */
  localVlan: Record<string, number>;
  dhcp: {
    node: string;
    /** 'qdhcp-' + id */
    netns: string;
    /** the DHCP port's OVS internal port name (tap + 11 chars of its port UUID) */
    iface: string;
    mac: string;
    ip: string;
    portId: string;
    /** dnsmasq pid, hostsfile and pidfile */
    pid?: number;
    hostsFile: string;
  };
}

export interface LabPort {
  /** Neutron port UUID (iface-id on the OVS interface) */
  id: string;
  mac: string;
  ip: string;
  node: string;
  networkId: string;
  hybrid: boolean;
  /** the VM namespace; its interface is eth0 */
  vmNetns: string;
  vmIface: string;
  /** device names in the node namespace (tap + 11 chars of the port id, etc.) */
  devices: { tap: string; qbr?: string; qvb?: string; qvo?: string };
  /** vm-uuid external id */
  vmUuid: string;
}

/** Root-namespace link the lab created to its mgmt switch. */
export interface LabRootLink {
  iface: string;
  address: string;
}

/** An active fault and what heal needs to undo it (opaque to callers). */
export interface LabFaultRecord {
  name: FaultName;
  args: Record<string, string | number>;
  /** human summary: what was broken, where */
  summary: string;
  undo: unknown;
}

export interface LabState {
  version: 1;
  prefix: string;
  /** lab dir: state.json, steth.conf, token, per-node dirs */
  dir: string;
  /** generated steth.conf (INI per /work/contracts.md Core) */
  configPath: string;
  token: string;
  tokenFile: string;
  /** 10.X.0.0/16 */
  octet: number;
  createdAt: string;
  /** 'up' once labUp finished; 'partial' while building (down still works from it) */
  phase: 'partial' | 'up';
  /** the physical switches' namespace (linux bridges mgmt/storage, OVS bridge for net) */
  switch: { netns: string; ovsdb: string; rundir: string; pids: { ovsdb: number; vswitchd: number }; netBridge: string; mgmtBridge: string; storageBridge: string;
    /** switch-side port per node per network kind */
    ports: Record<string, { mgmt: string; net: string; storage: string }> };
  root: LabRootLink;
  nodes: LabNode[];
  networks: LabNetwork[];
  ports: LabPort[];
  /** VLANs trunked on the tenant switch's node ports (untagged always passes) */
  trunkedVlans: number[];
  /** every namespace the lab created (for down) */
  netnsList: string[];
  /** every process the lab started, besides the ones above (relays, ...) */
  extraPids: number[];
  faults: LabFaultRecord[];
}

export interface LabStatus {
  prefix: string;
  phase: LabState['phase'] | 'absent';
  nodes: { name: string; role: NodeRole; netns: string; mgmt: string; ovs: boolean; agent: 'alive' | 'down' | 'none' }[];
  networks: { id: string; name: string; type: TenantNetworkType; segmentationId: number; cidr: string; dnsmasq: boolean }[];
  ports: { id: string; node: string; network: string; mac: string; ip: string; hybrid: boolean; present: boolean }[];
  faults: { name: FaultName; summary: string }[];
}
