/**
 * Port resolution: a Neutron port id → ResolvedPort, from what every agent answers
 * (dhcp.portInfo: OVSDB iface-id, device chain, flows; dhcp.servers: qdhcp namespaces,
 * dnsmasq hostsfile) plus optional hints from another source (the Neutron API, through
 * src/openstack) that take precedence where they speak. OVSDB-only needs no credentials.
 *
 * `combine` is pure (unit-tested); `resolvePort` does the fan-out.
 */
import { StethError } from '../../src/errors.js';
import type { DhcpServerFacts, NetworkType, PortNodeFacts, ResolvedPort } from './model.js';

/** What a richer source (Neutron) knows about the port; every field optional. */
export interface PortHints {
  mac?: string;
  fixedIps?: string[];
  /** binding:host_id (matched against agent names) */
  host?: string;
  hybrid?: boolean;
  network?: { id?: string; type?: NetworkType; segmentationId?: number; mtu?: number };
  /** hosts serving DHCP for the network */
  dhcpHosts?: string[];
  source?: 'neutron';
  /** what the source could not tell (e.g. Neutron unreachable: OVSDB only) */
  warnings?: string[];
}

/** Plug point for the Neutron resolver (src/openstack): hints for a port, or undefined. */
export interface PortHintSource {
  hints(portId: string, signal: AbortSignal): Promise<PortHints | undefined>;
}

export interface AgentAnswer<T> {
  node: string;
  ok: boolean;
  value?: T;
  error?: string;
}

export interface CombineInput {
  portId: string;
  infos: AgentAnswer<{ found: boolean; facts: PortNodeFacts }>[];
  servers: AgentAnswer<{ servers: DhcpServerFacts[] }>[];
  hints?: PortHints | undefined;
  /** operator overrides (original forms / flags) */
  override?: { mac?: string; networkType?: NetworkType; segmentationId?: number };
}

/** The agent hosting the port: the one whose OVSDB has the iface-id, else one with the devices. */
export function pickHost(portId: string, infos: CombineInput['infos'], hints?: PortHints): { node: string; facts: PortNodeFacts } {
  const found = infos.filter((i) => i.ok && i.value?.found);
  const withOvs = found.filter((i) => i.value!.facts.ovs);
  const pref = (xs: typeof found) => (hints?.host ? (xs.find((i) => i.node === hints.host) ?? xs[0]) : xs[0]);
  const chosen = pref(withOvs) ?? pref(found);
  if (!chosen) {
    const down = infos.filter((i) => !i.ok);
    throw new StethError(down.length ? 'EAGENT' : 'ENOENT', `port ${portId} is not plugged on any agent (no OVS interface with that iface-id, no device named after it)`, {
      hint: down.length
        ? `unreachable: ${down.map((d) => `${d.node} (${d.error ?? 'error'})`).join(', ')}`
        : `asked: ${infos.map((i) => i.node).join(', ') || 'no agents configured'}`,
    });
  }
  return { node: chosen.node, facts: chosen.value!.facts };
}

export function combine(input: CombineInput): ResolvedPort {
  const { portId, hints } = input;
  const warnings: string[] = [...(hints?.warnings ?? [])];
  const { node: host, facts } = pickHost(portId, input.infos, hints);
  for (const i of input.infos) if (!i.ok) warnings.push(`agent ${i.node} did not answer: ${i.error ?? 'error'}`);
  const ovs = facts.ovs;
  const mac = (input.override?.mac ?? hints?.mac ?? ovs?.externalIds['attached-mac'] ?? '').toLowerCase();
  if (!mac) warnings.push('the port MAC is unknown (no attached-mac in OVSDB, no Neutron): give --mac');

  const allServers = input.servers.flatMap((s) => (s.ok ? (s.value?.servers ?? []) : []));
  for (const s of input.servers) if (!s.ok) warnings.push(`agent ${s.node} did not list its DHCP servers: ${s.error ?? 'error'}`);
  let servers: DhcpServerFacts[];
  const netId = hints?.network?.id;
  if (netId) servers = allServers.filter((s) => s.networkId === netId.toLowerCase());
  else {
    const byMac = allServers.filter((s) => s.hostEntry);
    if (byMac.length) servers = allServers.filter((s) => byMac.some((b) => b.networkId === s.networkId));
    else {
      const seg = facts.segmentation;
      const bySeg = seg ? allServers.filter((s) => s.segmentation && s.segmentation.type === seg.type && s.segmentation.id === seg.id) : [];
      if (bySeg.length) servers = bySeg;
      else if (new Set(allServers.map((s) => s.networkId)).size === 1) servers = allServers;
      else {
        servers = [];
        if (allServers.length) warnings.push(`cannot tell which of ${new Set(allServers.map((s) => s.networkId)).size} DHCP networks serves this port (its MAC is in no hostsfile and no segmentation matches)`);
      }
    }
  }
  if (hints?.dhcpHosts?.length) {
    const missing = hints.dhcpHosts.filter((h) => !servers.some((s) => s.node === h));
    if (missing.length) warnings.push(`Neutron lists DHCP on ${missing.join(', ')}, but no agent there reported a qdhcp namespace for the network`);
  }
  const serverSeg = servers.find((s) => s.segmentation)?.segmentation;
  const type: NetworkType = input.override?.networkType ?? hints?.network?.type ?? serverSeg?.type ?? facts.segmentation?.type ?? 'unknown';
  const segId = input.override?.segmentationId ?? hints?.network?.segmentationId ?? (serverSeg && serverSeg.type === type ? serverSeg.id : undefined) ?? (facts.segmentation?.type === type ? facts.segmentation.id : undefined);
  const network: ResolvedPort['network'] = { type };
  const nid = netId ?? servers[0]?.networkId;
  if (nid) network.id = nid;
  if (segId !== undefined) network.segmentationId = segId;
  if (hints?.network?.mtu !== undefined) network.mtu = hints.network.mtu;
  const fixedIps = hints?.fixedIps ?? [...new Set(servers.map((s) => s.hostEntry?.ip).filter((x): x is string => !!x))];
  const d = facts.devices;
  const hybrid = hints?.hybrid ?? Boolean(d.qvb?.exists && d.qvo?.exists);
  const unreachable = [...new Set([...input.infos, ...input.servers].filter((a) => !a.ok).map((a) => a.node))];
  return {
    ...(unreachable.length ? { unreachable } : {}),
    portId,
    mac,
    fixedIps,
    host,
    ovs,
    hybrid,
    network,
    hostFacts: facts,
    servers,
    source: hints?.source ?? 'ovsdb',
    warnings: [...warnings, ...facts.warnings],
  };
}
