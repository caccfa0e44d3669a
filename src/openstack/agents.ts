/**
 * The Neutron agent list as rows for print-agents-info (alive, host, type),
 * sorted by host then type. Needs an admin token (403 → EPERM with the hint).
 */
import type { NeutronClient } from './neutron.js';

export interface NeutronAgentRow {
  host: string;
  type: string;
  binary: string | null;
  alive: boolean;
  adminStateUp: boolean | null;
  availabilityZone: string | null;
  heartbeat: string | null;
}

export async function neutronAgentRows(neutron: NeutronClient, signal?: AbortSignal): Promise<NeutronAgentRow[]> {
  const agents = await neutron.listAgents({}, signal);
  return agents
    .map((a) => ({
      host: a.host,
      type: a.agent_type,
      binary: a.binary ?? null,
      alive: a.alive,
      adminStateUp: a.admin_state_up ?? null,
      availabilityZone: a.availability_zone ?? null,
      heartbeat: a.heartbeat_timestamp ?? null,
    }))
    .sort((x, y) => x.host.localeCompare(y.host) || x.type.localeCompare(y.type));
}
