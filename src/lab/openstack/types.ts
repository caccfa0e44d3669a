/**
 * State of a lab with a real OpenStack networking control plane (`steth lab up
 * --openstack`). It is written to the same place as an emulated lab's
 * (BASE/PREFIX/state.json) and keeps LabState's names for what probes read
 * (nodes, networks, ports, configPath, token), plus `kind: 'openstack'` and what
 * the plane needs to be driven and removed.
 *
 * Layout (X = the lab's second octet):
 *   PREFIX-ctl  the control plane (mariadb, rabbitmq+epmd, keystone under uwsgi,
 *               neutron-server, all on 127.0.0.1) and Neutron host "network-1":
 *               its own ovsdb-server/ovs-vswitchd, OVS agent, DHCP agent; mgmt
 *               bridge 10.X.0.1; a relay publishes 5000/9696/5672 on 10.X.0.1
 *   PREFIX-c2   Neutron host "compute-2": own OVS pair + OVS agent (rabbit via the
 *               relay); mgmt 10.X.0.2
 *   eth1 ↔ eth1 a veth "wire" joining both br-phys (physnet1): tenant VLANs cross it
 *   PREFIX-vmN  one namespace per VM port, plugged as os-vif does (tap on br-int)
 *   root        PREFIX-os veth, 10.X.0.254, to reach agents and the APIs
 */
import type { LabNetwork, LabNode, LabPort } from '../types.js';

export interface OpenstackService {
  name: string;
  /** namespace the process runs in */
  netns: string;
  pid: number;
  log: string;
}

export interface OpenstackLabNode extends LabNode {
  /** Neutron host name of this node (== name) */
  host: string;
  /** bridge of physnet1 (br-phys) and the wire NIC on it */
  physBridge: string;
}

export interface OpenstackLabState {
  version: 1;
  kind: 'openstack';
  prefix: string;
  dir: string;
  configPath: string;
  token: string;
  tokenFile: string;
  octet: number;
  createdAt: string;
  phase: 'partial' | 'up';
  /** clouds.yaml with cloud `cloud` (admin of the lab's Keystone); 0600 */
  cloudsYaml: string;
  cloud: string;
  /** Keystone v3 URL reachable from the root namespace (through the relay) */
  authUrl: string;
  /** Neutron URL reachable from the root namespace */
  neutronUrl: string;
  ctlNetns: string;
  root: { iface: string; address: string };
  nodes: OpenstackLabNode[];
  networks: LabNetwork[];
  ports: LabPort[];
  trunkedVlans: number[];
  /** every namespace the lab created, qdhcp-* of its networks included */
  netnsList: string[];
  services: OpenstackService[];
  extraPids: number[];
  faults: never[];
  /** when each stage of `up` finished, seconds since its start (install: seconds apt-get took, 0 when nothing was missing) */
  timings: Record<string, number>;
}

export interface OpenstackUpOptions {
  prefix?: string;
  baseDir?: string;
  /** install missing Debian packages (default true) */
  install?: boolean;
  /** start steth agents on the nodes (default: when dist/bin/steth-agent.js exists) */
  agents?: boolean;
  agentPort?: number;
  /** VLAN range of physnet1 (default 100..199) and the segmentation id of the lab network (default first of the range) */
  vlanRange?: [number, number];
  segmentationId?: number;
  /** VM ports to create: node names (default one on compute-2 and one on network-1) */
  vms?: string[];
  octet?: number;
  /** debugging: leave a failed plane in place for its logs (remove it with down) */
  keepOnFailure?: boolean;
  /** tests: fail right after the stage of this name (e.g. 'rabbitmq') to exercise cleanup */
  failAt?: string;
  log?: (line: string) => void;
}
