/**
 * `lab status`: nodes (OVS alive, agent alive), networks (dnsmasq alive), ports
 * (plugged device present), active faults, read from the state and checked live.
 */
import { linkExists, pidAlive, waitTcp } from './host.js';
import { DEFAULT_BASE_DIR } from './spec.js';
import { readState } from './state.js';
import type { LabStatus } from './types.js';

export async function labStatus(prefix: string, opts: { baseDir?: string; agentPort?: number } = {}): Promise<LabStatus> {
  const state = await readState(prefix, opts.baseDir ?? DEFAULT_BASE_DIR);
  if (!state) return { prefix, phase: 'absent', nodes: [], networks: [], ports: [], faults: [] };
  const nodes = await Promise.all(
    state.nodes.map(async (n) => {
      let agent: 'alive' | 'down' | 'none' = 'none';
      if (n.agentPid !== undefined) {
        const port = Number(new URL(n.agentUrl).port || 9698);
        agent = pidAlive(n.agentPid) && (await waitTcp(n.addresses.mgmt, port, 5000)) ? 'alive' : 'down';
      }
      return { name: n.name, role: n.role, netns: n.netns, mgmt: n.addresses.mgmt, ovs: pidAlive(n.pids.ovsdb) && pidAlive(n.pids.vswitchd), agent };
    }),
  );
  const networks = state.networks.map((net) => ({
    id: net.id,
    name: net.name,
    type: net.type,
    segmentationId: net.segmentationId,
    cidr: net.cidr,
    dnsmasq: net.dhcp.pid !== undefined && pidAlive(net.dhcp.pid),
  }));
  const ports = await Promise.all(
    state.ports.map(async (p) => {
      const node = state.nodes.find((n) => n.name === p.node)!;
      const net = state.networks.find((n) => n.id === p.networkId)!;
      return { id: p.id, node: p.node, network: net.type, mac: p.mac, ip: p.ip, hybrid: p.hybrid, present: await linkExists(p.devices.tap, node.netns) };
    }),
  );
  return { prefix, phase: state.phase, nodes, networks, ports, faults: state.faults.map((f) => ({ name: f.name, summary: f.summary })) };
}
