/**
 * Port resolution through the Neutron API: a port id becomes everything a
 * cross-node check needs — where the port is bound (binding:host_id), its MAC and
 * fixed IPs, the network's type / physical network / segmentation id / MTU (also
 * for multi-segment networks), how it is plugged (hybrid or not, device names)
 * and which hosts serve DHCP for it (DHCP agents and the network:dhcp ports).
 *
 * Non-admin tokens see ports without binding:* and networks without provider:*;
 * that is reported as EPERM with the hint, never silently guessed.
 */
import { StethError } from '../errors.js';
import { assertUuid } from '../validate.js';
import type { Agent, Network, NeutronClient, Port, Subnet } from './neutron.js';

export type NetworkType = 'vlan' | 'vxlan' | 'flat' | 'geneve' | 'gre' | 'local';

export interface SegmentModel {
  type: string;
  physicalNetwork: string | null;
  segmentationId: number | null;
}

export interface FixedIpModel {
  subnetId: string;
  ip: string;
  cidr?: string;
  gateway?: string | null;
  enableDhcp?: boolean;
}

export interface DhcpServerModel {
  /** the network:dhcp port (MAC/IP dnsmasq answers from), when visible */
  portId?: string;
  mac?: string;
  ip?: string;
  /** host the DHCP port is bound to / the DHCP agent runs on */
  host: string;
  /** agent state when the agents API answered */
  agentId?: string;
  alive?: boolean;
  adminStateUp?: boolean;
}

export interface ResolvedNeutronPort {
  source: 'neutron';
  portId: string;
  name: string | null;
  mac: string;
  /** binding:host_id — the node the port is bound to */
  host: string;
  status: string | null;
  adminStateUp: boolean | null;
  deviceOwner: string | null;
  deviceId: string | null;
  vifType: string | null;
  vnicType: string | null;
  /** binding:vif_details.ovs_hybrid_plug (null if the plugin did not say) */
  hybrid: boolean | null;
  /** the names os-vif / nova give the devices: tap, qbr, qvb, qvo (prefix + 11 chars of the id) */
  devices: { tap: string; qbr: string; qvb: string; qvo: string };
  fixedIps: FixedIpModel[];
  network: {
    id: string;
    name: string | null;
    type: string;
    physicalNetwork: string | null;
    segmentationId: number | null;
    mtu: number | null;
    /** all segments (one for a plain provider network) */
    segments: SegmentModel[];
    /** more than one segment could be this port's and none could be singled out */
    segmentAmbiguous: boolean;
  };
  /** DHCP servers of the network (agents hosting it, with their network:dhcp ports) */
  dhcp: DhcpServerModel[];
  /** things the resolver could not learn (e.g. agents API forbidden) */
  warnings: string[];
}

export function deviceNames(portId: string): { tap: string; qbr: string; qvb: string; qvo: string } {
  const s = portId.slice(0, 11);
  return { tap: `tap${s}`, qbr: `qbr${s}`, qvb: `qvb${s}`, qvo: `qvo${s}` };
}

/** The network's segments, whether given as provider:* or as a `segments` list. */
export function networkSegments(n: Network): SegmentModel[] {
  if (Array.isArray(n.segments) && n.segments.length > 0) {
    return n.segments.map((s) => ({
      type: s['provider:network_type'] ?? 'unknown',
      physicalNetwork: s['provider:physical_network'] ?? null,
      segmentationId: s['provider:segmentation_id'] ?? null,
    }));
  }
  if (n['provider:network_type'] == null) return [];
  return [{
    type: n['provider:network_type'],
    physicalNetwork: n['provider:physical_network'] ?? null,
    segmentationId: n['provider:segmentation_id'] ?? null,
  }];
}

const L2_TYPES = new Set(['vlan', 'flat', 'vxlan', 'geneve', 'gre']);

export interface ResolveOptions {
  signal?: AbortSignal;
  /** physical networks this host maps (e.g. from the OVS agent's bridge_mappings) to pick a segment */
  hostPhysnets?: readonly string[];
}

/**
 * Pick the segment of a port on a possibly multi-segment network:
 * 1. its subnet's segment_id (routed networks) via the segments API;
 * 2. the bound host's OVS agent bridge_mappings (physnets it can reach) + tunnel types;
 * 3. the only L2 segment; else the first, flagged ambiguous.
 */
export function chooseSegment(
  segments: readonly SegmentModel[],
  hint: { segment?: SegmentModel; physnets?: readonly string[]; tunnelTypes?: readonly string[] },
): { segment: SegmentModel | undefined; ambiguous: boolean } {
  if (segments.length === 0) return { segment: undefined, ambiguous: false };
  if (segments.length === 1) return { segment: segments[0], ambiguous: false };
  if (hint.segment) {
    const m = segments.find((s) => s.type === hint.segment!.type && s.physicalNetwork === hint.segment!.physicalNetwork && s.segmentationId === hint.segment!.segmentationId);
    return { segment: m ?? hint.segment, ambiguous: false };
  }
  const l2 = segments.filter((s) => L2_TYPES.has(s.type));
  if (hint.physnets || hint.tunnelTypes) {
    const reachable = l2.filter((s) => (s.physicalNetwork !== null ? (hint.physnets ?? []).includes(s.physicalNetwork) : (hint.tunnelTypes ?? []).includes(s.type)));
    if (reachable.length === 1) return { segment: reachable[0], ambiguous: false };
    if (reachable.length > 1) return { segment: reachable[0], ambiguous: true };
  }
  if (l2.length === 1) return { segment: l2[0], ambiguous: false };
  return { segment: l2[0] ?? segments[0], ambiguous: true };
}

function agentPhysnets(a: Agent | undefined): { physnets?: string[]; tunnelTypes?: string[] } {
  const conf = a?.configurations as Record<string, unknown> | undefined;
  if (!conf) return {};
  const out: { physnets?: string[]; tunnelTypes?: string[] } = {};
  const bm = conf.bridge_mappings;
  if (bm && typeof bm === 'object') out.physnets = Object.keys(bm);
  if (Array.isArray(conf.tunnel_types)) out.tunnelTypes = conf.tunnel_types.filter((x): x is string => typeof x === 'string');
  return out;
}

function isForbidden(e: unknown): boolean {
  return e instanceof StethError && e.code === 'EPERM';
}

const ADMIN_HINT = 'binding:* and provider:* fields need an admin token';

/** Resolve a port with an existing client. */
export async function resolvePortWith(neutron: NeutronClient, portIdIn: string, opts: ResolveOptions = {}): Promise<ResolvedNeutronPort> {
  const portId = assertUuid(portIdIn, 'port id');
  const { signal } = opts;
  const port: Port = await neutron.getPort(portId, signal);
  if (!('binding:host_id' in port)) {
    throw new StethError('EPERM', `Neutron showed port ${portId} without binding:host_id`, { hint: ADMIN_HINT });
  }
  const host = port['binding:host_id'] ?? '';
  if (host === '') {
    throw new StethError('EFAULT', `port ${portId} is not bound to any host (binding:host_id is empty)`, {
      hint: 'the port has no VM yet, or nova failed to bind it: openstack port show ' + portId,
    });
  }
  const warnings: string[] = [];
  const [network, subnets, dhcpPorts] = await Promise.all([
    neutron.getNetwork(port.network_id, signal),
    neutron.listSubnets({ network_id: port.network_id }, signal),
    neutron.listPorts({ network_id: port.network_id, device_owner: 'network:dhcp' }, signal),
  ]);
  const segments = networkSegments(network);
  if (segments.length === 0) throw new StethError('EPERM', `Neutron showed network ${network.id} without provider:* fields`, { hint: ADMIN_HINT });

  let dhcpAgents: Agent[] | undefined;
  let hostAgents: Agent[] | undefined;
  await Promise.all([
    neutron.dhcpAgentsHostingNetwork(network.id, signal).then((a) => {
      dhcpAgents = a;
    }, (e: unknown) => {
      if (!isForbidden(e)) throw e;
      warnings.push(`DHCP agents of the network not listed: ${(e as Error).message}`);
    }),
    segments.length > 1
      ? neutron.listAgents({ host, agent_type: 'Open vSwitch agent' }, signal).then((a) => {
        hostAgents = a;
      }, (e: unknown) => {
        if (!isForbidden(e)) throw e;
        warnings.push(`agents of ${host} not listed: ${(e as Error).message}`);
      })
      : Promise.resolve(),
  ]);

  const subnetById = new Map<string, Subnet>(subnets.map((s) => [s.id, s]));
  const fixedIps: FixedIpModel[] = port.fixed_ips.map((f) => {
    const s = subnetById.get(f.subnet_id);
    const m: FixedIpModel = { subnetId: f.subnet_id, ip: f.ip_address };
    if (s) {
      m.cidr = s.cidr;
      m.gateway = s.gateway_ip ?? null;
      m.enableDhcp = s.enable_dhcp ?? true;
    }
    return m;
  });

  // multi-segment: which segment is this port's?
  let segHint: SegmentModel | undefined;
  if (segments.length > 1) {
    const segId = port.fixed_ips.map((f) => subnetById.get(f.subnet_id)?.segment_id).find((x) => typeof x === 'string');
    if (segId) {
      try {
        const segs = await neutron.listSegments({ id: segId }, signal);
        const s = segs[0];
        if (s) segHint = { type: s.network_type, physicalNetwork: s.physical_network ?? null, segmentationId: s.segmentation_id ?? null };
      } catch (e) {
        warnings.push(`segment ${segId} not readable: ${(e as Error).message}`);
      }
    }
  }
  const hints: { segment?: SegmentModel; physnets?: readonly string[]; tunnelTypes?: readonly string[] } = {};
  if (segHint) hints.segment = segHint;
  if (opts.hostPhysnets) hints.physnets = opts.hostPhysnets;
  else Object.assign(hints, agentPhysnets(hostAgents?.[0]));
  const { segment, ambiguous } = chooseSegment(segments, hints);
  if (ambiguous) warnings.push(`network ${network.id} has ${segments.length} segments; could not tell which one port ${portId} uses, took ${segment?.type}:${segment?.segmentationId ?? '-'}`);

  const dhcp: DhcpServerModel[] = [];
  const seenHosts = new Set<string>();
  for (const p of dhcpPorts) {
    const phost = p['binding:host_id'] ?? '';
    const agent = dhcpAgents?.find((a) => a.host === phost);
    const ipOnNet = p.fixed_ips.find((f) => port.fixed_ips.some((pf) => pf.subnet_id === f.subnet_id)) ?? p.fixed_ips[0];
    const d: DhcpServerModel = { portId: p.id, mac: p.mac_address, host: phost };
    if (ipOnNet) d.ip = ipOnNet.ip_address;
    if (agent) {
      d.agentId = agent.id;
      d.alive = agent.alive;
      d.adminStateUp = agent.admin_state_up ?? true;
    }
    dhcp.push(d);
    seenHosts.add(phost);
  }
  for (const a of dhcpAgents ?? []) {
    if (seenHosts.has(a.host)) continue;
    dhcp.push({ host: a.host, agentId: a.id, alive: a.alive, adminStateUp: a.admin_state_up ?? true });
  }
  if (dhcp.length === 0 && fixedIps.some((f) => f.enableDhcp !== false)) warnings.push(`no DHCP agent hosts network ${network.id}`);

  const details = port['binding:vif_details'] ?? null;
  const hybridRaw = details ? (details as Record<string, unknown>).ovs_hybrid_plug : undefined;
  return {
    source: 'neutron',
    portId,
    name: port.name ?? null,
    mac: port.mac_address.toLowerCase(),
    host,
    status: port.status ?? null,
    adminStateUp: port.admin_state_up ?? null,
    deviceOwner: port.device_owner ?? null,
    deviceId: port.device_id ?? null,
    vifType: port['binding:vif_type'] ?? null,
    vnicType: port['binding:vnic_type'] ?? null,
    hybrid: typeof hybridRaw === 'boolean' ? hybridRaw : null,
    devices: deviceNames(portId),
    fixedIps,
    network: {
      id: network.id,
      name: network.name ?? null,
      type: segment?.type ?? 'unknown',
      physicalNetwork: segment?.physicalNetwork ?? null,
      segmentationId: segment?.segmentationId ?? null,
      mtu: network.mtu ?? null,
      segments,
      segmentAmbiguous: ambiguous,
    },
    dhcp,
    warnings,
  };
}
