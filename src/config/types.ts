/**
 * The typed configuration every part of the CLI reads. Loaded by
 * src/config/load.ts from steth.conf (INI, the original keys plus [agent NAME]
 * sections), STETH_* environment variables and command-line flags.
 */

/** The original steth's network types (network_types = "type:nic:prefix,..."). */
export type NetworkTypeName = 'mgmt' | 'net' | 'storage';
export const NETWORK_TYPE_NAMES: readonly NetworkTypeName[] = ['mgmt', 'net', 'storage'];

export interface NetworkType {
  type: NetworkTypeName;
  /** physical NIC carrying this network on every node, e.g. eth1 */
  nic: string;
  /** address prefix of this network, e.g. "2.2.2." (original) or "10.1.0." */
  prefix: string;
}

export interface AgentEntry {
  /** node name as the operator types it, e.g. server-64 or compute-1 */
  name: string;
  /** http(s)://host:port (the agent also answers on /RPC2) */
  url: string;
  role?: 'network' | 'compute';
  /** this node's address on each network type */
  addresses: { mgmt?: string; net?: string; storage?: string };
  /** this node's NIC on each network type (falls back to network_types' nic) */
  nics: { mgmt?: string; net?: string; storage?: string };
  /** per-agent token (overrides the global one) */
  token?: string;
}

export interface NeutronConfig {
  authUrl?: string;
  username?: string;
  password?: string;
  projectName?: string;
  userDomainName?: string;
  projectDomainName?: string;
  regionName?: string;
  /** every key of [neutron_client] as written (original spellings) */
  raw: Record<string, string>;
}

export interface Config {
  /** file the config came from, or null when none was found (defaults only) */
  source: string | null;
  /** agent port (default 9698) */
  port: number;
  /** Bearer token sent to agents */
  token?: string;
  /** per-agent RPC deadline (ms) */
  timeoutMs: number;
  /** fan-out concurrency limit */
  concurrency: number;
  networkTypes: NetworkType[];
  agents: AgentEntry[];
  neutron?: NeutronConfig;
  /** original keys, kept for print-agents-info */
  nodesId?: string[];
  nodeNamePrefix?: string;
}

export const DEFAULT_PORT = 9698;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_CONFIG_PATH = '/etc/steth/steth.conf';
