/**
 * The shapes the DHCP check works with, from a port id to a verdict:
 *
 *   ResolvedPort  what we learnt about the port (host, MAC, devices, network, DHCP servers)
 *   HopPlan       where to capture (node, device, namespace) and what each hop should see
 *   PointObs      what each capture point saw (decoded DHCP frames of this probe only)
 *   DhcpVerdict   per-hop rows + the first hop where the exchange broke, with likely causes
 *
 * Everything here is plain JSON-safe data (timestamps as decimal ns strings) so the
 * same structure goes into `-f json`, and the correlation is pure (correlate.ts).
 */

export type NetworkType = 'vlan' | 'vxlan' | 'flat' | 'unknown';

/** Capture roles in DISCOVER order (VM side → DHCP server). */
export const HOP_ROLES = ['tap', 'qbr', 'qvb', 'qvo', 'compute-uplink', 'dhcp-uplink', 'qdhcp'] as const;
export type HopRole = (typeof HOP_ROLES)[number];

export function hopOrder(role: HopRole): number {
  return HOP_ROLES.indexOf(role);
}

/** One network interface as an agent sees it (only the facts the check needs). */
export interface DeviceFact {
  name: string;
  exists: boolean;
  /** operstate: 'UP' | 'DOWN' | 'UNKNOWN' | 'LOWERLAYERDOWN' ... */
  state?: string;
  /** admin up flag */
  adminUp?: boolean;
  /** linux bridge / OVS master, when enslaved */
  master?: string;
  /** veth peer name when known */
  peer?: string;
  kind?: string;
  mac?: string;
  mtu?: number;
}

/** The OVS Interface carrying the port (external_ids:iface-id = port id). */
export interface OvsAttachment {
  name: string;
  bridge: string;
  tag: number | null;
  ofport: number | null;
  externalIds: Record<string, string>;
  error?: string | null;
}

/** What the node hosting the port reports about it (agent method dhcp.portInfo). */
export interface PortNodeFacts {
  node: string;
  ovs: OvsAttachment | null;
  /** the devices of the chain that were looked at, by role */
  devices: Partial<Record<'tap' | 'qbr' | 'qvb' | 'qvo', DeviceFact>>;
  /** physical NIC of the tenant network (VLAN) / the one that carries the underlay (VXLAN) */
  uplink?: DeviceFact;
  /** segmentation learnt from this node's translation flows for the port's local VLAN */
  segmentation?: { type: NetworkType; id: number; bridge?: string };
  /** underlay address of this node (VXLAN local_ip) and the tunnel remotes configured */
  underlay?: { localIp?: string; remotes: string[] };
  vswitchdRunning?: boolean;
  /** anything the agent could not learn, in words */
  warnings: string[];
}

/** One qdhcp namespace on a node (agent method dhcp.servers). */
export interface DhcpServerFacts {
  node: string;
  netns: string;
  networkId: string;
  iface?: string;
  mac?: string;
  ips: string[];
  /** local VLAN of the DHCP port on that node's br-int */
  localVlan?: number | null;
  segmentation?: { type: NetworkType; id: number };
  uplink?: DeviceFact;
  underlay?: { localIp?: string; remotes: string[] };
  dnsmasq: { running: boolean; pid?: number; hostsFile?: string; leaseFile?: string };
  /** hostsfile line for the MAC asked about, when present */
  hostEntry?: { mac: string; ip?: string; hostname?: string };
  /** whether the hostsfile was readable at all */
  hostsFileRead: boolean;
  vswitchdRunning?: boolean;
  warnings: string[];
}

export interface ResolvedPort {
  portId: string;
  mac: string;
  fixedIps: string[];
  /** agent name hosting the port */
  host: string;
  /** OVS attachment on the host, null when no OVS Interface carries the iface-id */
  ovs: OvsAttachment | null;
  hybrid: boolean;
  network: { id?: string; type: NetworkType; segmentationId?: number; mtu?: number };
  hostFacts: PortNodeFacts;
  servers: DhcpServerFacts[];
  /** where the answer came from */
  source: 'ovsdb' | 'neutron';
  /** agents that did not answer (their hops and DHCP servers are unknown) */
  unreachable?: string[];
  warnings: string[];
}

/** One place to capture. */
export interface CapturePoint {
  /** stable key, e.g. 'compute-1/qvb1234' */
  key: string;
  node: string;
  role: HopRole;
  iface: string;
  netns?: string;
  /** VXLAN: frames are encapsulated here; match the inner frame */
  encap?: 'vxlan';
  /** what this hop should see in a healthy exchange */
  expectDiscover: boolean;
  expectOffer: boolean;
  /** VLAN tag expected on the wire here (uplinks of VLAN networks) */
  expectTag?: number;
  /** VXLAN: VNI and outer destination expected here */
  expectVni?: number;
  expectOuterDst?: string;
  /** set when the point cannot be observed; the reason, in words */
  unobservable?: string;
}

export interface InjectionPlan {
  node: string;
  /** 'pcap': send on iface; 'packet-out': OpenFlow packet-out on bridge with in_port=ofport */
  mode: 'pcap' | 'packet-out';
  iface: string;
  netns?: string;
  bridge?: string;
  ofport?: number;
  /** human description, e.g. 'qvb1234 (as the original steth)' */
  describe: string;
}

export interface HopPlan {
  points: CapturePoint[];
  injection: InjectionPlan | null;
  /** reasons the probe cannot run at all (then only static findings are reported) */
  blockers: string[];
  warnings: string[];
}

/** One DHCP frame of this probe seen at a point. */
export interface FrameObs {
  tsNs: string;
  /** DHCP message type (1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, 6 NAK, 7 RELEASE) */
  msgType: number;
  xid: number;
  /** 802.1Q tags outer→inner (outer frame for VXLAN) */
  vlanTags: number[];
  src: string;
  dst: string;
  encap?: { vni: number; outerSrc: string; outerDst: string };
  yiaddr?: string;
  serverId?: string;
  direction?: string;
}

export interface PointObs {
  point: CapturePoint;
  /** armed and collected / could not be armed / armed but collect failed */
  status: 'ok' | 'unarmed' | 'failed';
  error?: string;
  /** the agent itself stopped answering (timeout, connection lost), not a failed capture */
  agentLost?: boolean;
  frames: FrameObs[];
}

/** DHCP options of the OFFER, as shown to the operator. */
export interface OfferSummary {
  server: string;
  serverMac: string;
  yiaddr: string;
  router?: string[];
  dns?: string[];
  mtu?: number;
  classlessRoutes?: { destination: string; gateway: string }[];
  leaseTime?: number;
  subnetMask?: string;
  domain?: string;
}

/** What the injecting agent reports (agent method dhcp.exchange). */
export interface ExchangeResult {
  xid: number;
  sentTsNs: string;
  offers: (OfferSummary & { tsNs: string })[];
  ack?: (OfferSummary & { tsNs: string }) | undefined;
  nak?: { tsNs: string; message?: string } | undefined;
  released: boolean;
  /** DISCOVERs sent (retransmitted with back-off until an OFFER or the deadline) */
  attempts?: number;
  /** the agent could not send (error text) */
  error?: string;
}

export interface HopRow {
  node: string;
  device: string;
  role: HopRole;
  /** true/false, or null when not expected/not observable */
  discover: boolean | null;
  discoverTags: string;
  offer: boolean | null;
  offerTags: string;
  /** ms from send to the first DISCOVER here, and to the first OFFER here */
  discoverMs: number | null;
  offerMs: number | null;
  note: string;
}

export interface DhcpVerdict {
  ok: boolean;
  /** one line */
  summary: string;
  /** the first hop where the exchange broke */
  brokenAt?: { node: string; device: string; role: HopRole | 'resolution' | 'offer' };
  causes: string[];
  rows: HopRow[];
  offer?: OfferSummary;
  fixedIp?: string;
  ipMatches?: boolean;
  /** points that could not be observed */
  unobserved: string[];
}
