/**
 * Agent methods of the DHCP probe (declared once, shared by agent and CLI):
 *
 *   dhcp.portInfo   what this node knows about a Neutron port: its OVS interface (iface-id),
 *                   the device chain (tap/qbr/qvb/qvo discovered from links, never assumed),
 *                   uplink NIC, the segmentation its flows translate the local VLAN to,
 *                   VXLAN underlay, whether ovs-vswitchd runs
 *   dhcp.servers    the qdhcp namespaces whose DHCP port is on this node's OVS, with dnsmasq
 *                   state and the hostsfile entry for a MAC
 *   dhcp.exchange   send a DISCOVER as the port (pcap on qvb, or OpenFlow packet-out as if from
 *                   the tap) and collect OFFERs; with full: REQUEST → ACK, then RELEASE
 *   check_dhcp_on_comp / check_dhcp_on_net   the original steth calls, {code, message, data}
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { ifName, netnsName, neutronPortId } from '../../src/rpc/fields.js';

const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'MAC aa:bb:cc:dd:ee:ff');
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/);
const networkType = z.enum(['vlan', 'vxlan', 'flat', 'unknown']);

export const deviceFact = z.object({
  name: z.string(),
  exists: z.boolean(),
  state: z.string().optional(),
  adminUp: z.boolean().optional(),
  master: z.string().optional(),
  peer: z.string().optional(),
  kind: z.string().optional(),
  mac: z.string().optional(),
  mtu: z.number().optional(),
});

const segmentation = z.object({ type: networkType, id: z.number().int(), bridge: z.string().optional() });
const underlay = z.object({ localIp: z.string().optional(), remotes: z.array(z.string()) });

export const ovsAttachment = z.object({
  name: z.string(),
  bridge: z.string(),
  tag: z.number().int().nullable(),
  ofport: z.number().int().nullable(),
  externalIds: z.record(z.string()),
  error: z.string().nullable().optional(),
});

export const portNodeFacts = z.object({
  node: z.string(),
  ovs: ovsAttachment.nullable(),
  devices: z.object({ tap: deviceFact.optional(), qbr: deviceFact.optional(), qvb: deviceFact.optional(), qvo: deviceFact.optional() }),
  uplink: deviceFact.optional(),
  segmentation: segmentation.optional(),
  underlay: underlay.optional(),
  vswitchdRunning: z.boolean().optional(),
  warnings: z.array(z.string()),
});

export const dhcpPortInfo = declare(
  'dhcp.portInfo',
  z.object({ portId: neutronPortId, uplink: ifName.optional() }).strict(),
  z.object({
    /** an OVS interface carries the iface-id, or devices named after the port exist here */
    found: z.boolean(),
    facts: portNodeFacts,
  }),
  "this node's view of a Neutron port: OVS interface, device chain, uplink, segmentation",
  10_000,
);

export const dhcpServerFacts = z.object({
  node: z.string(),
  netns: z.string(),
  networkId: z.string(),
  iface: z.string().optional(),
  mac: z.string().optional(),
  ips: z.array(z.string()),
  localVlan: z.number().int().nullable().optional(),
  segmentation: segmentation.optional(),
  uplink: deviceFact.optional(),
  underlay: underlay.optional(),
  dnsmasq: z.object({ running: z.boolean(), pid: z.number().int().optional(), hostsFile: z.string().optional(), leaseFile: z.string().optional() }),
  hostEntry: z.object({ mac: z.string(), ip: z.string().optional(), hostname: z.string().optional() }).optional(),
  hostsFileRead: z.boolean(),
  vswitchdRunning: z.boolean().optional(),
  warnings: z.array(z.string()),
});

export const dhcpServers = declare(
  'dhcp.servers',
  z.object({ mac: mac.optional(), networkId: z.string().uuid().optional(), uplink: ifName.optional() }).strict(),
  z.object({ servers: z.array(dhcpServerFacts) }),
  'the qdhcp namespaces served from this node, dnsmasq state and the hostsfile entry for a MAC',
  10_000,
);

export const dhcpHostEntry = declare(
  'dhcp.hostEntry',
  z.object({ netns: netnsName, mac }).strict(),
  z.object({ hostsFileRead: z.boolean(), hostsFile: z.string().optional(), hostEntry: z.object({ mac: z.string(), ip: z.string().optional(), hostname: z.string().optional() }).optional() }),
  "the line for a MAC in the hostsfile of the dnsmasq serving a qdhcp namespace on this node",
  10_000,
);

const offerSummary = z.object({
  tsNs: z.string(),
  server: z.string(),
  serverMac: z.string(),
  yiaddr: z.string(),
  router: z.array(z.string()).optional(),
  dns: z.array(z.string()).optional(),
  mtu: z.number().optional(),
  classlessRoutes: z.array(z.object({ destination: z.string(), gateway: z.string() })).optional(),
  leaseTime: z.number().optional(),
  subnetMask: z.string().optional(),
  domain: z.string().optional(),
});

export const dhcpExchange = declare(
  'dhcp.exchange',
  z
    .object({
      /** pcap: send on iface (e.g. qvb); packet-out: OpenFlow packet-out on bridge as if received on ofport */
      mode: z.enum(['pcap', 'packet-out']),
      iface: ifName,
      netns: netnsName.optional(),
      bridge: ifName.optional(),
      ofport: z.number().int().min(1).max(0xfeff).optional(),
      mac,
      xid: z.number().int().min(0).max(0xffffffff),
      /** REQUEST → ACK, then RELEASE */
      full: z.boolean().optional(),
      /** how long to wait for the OFFER (and for the ACK) */
      waitMs: z.number().int().min(10).max(60_000).optional(),
    })
    .strict(),
  z.object({
    xid: z.number().int(),
    sentTsNs: z.string(),
    offers: z.array(offerSummary),
    ack: offerSummary.optional(),
    nak: z.object({ tsNs: z.string(), message: z.string().optional() }).optional(),
    released: z.boolean(),
    attempts: z.number().int().optional(),
    error: z.string().optional(),
  }),
  'send a DHCPDISCOVER as the port and collect OFFERs (full: REQUEST/ACK then RELEASE)',
  70_000,
);

/** The original steth envelope. */
export const envelope = z.object({ code: z.number().int(), message: z.string(), data: z.unknown() });

export const checkDhcpOnComp = declare(
  'check_dhcp_on_comp',
  z
    .object({
      port_id: z.string().min(1).max(64),
      port_mac: z.string().min(1).max(32),
      phy_iface: z.string().min(1).max(32),
      net_type: z.string().max(16).optional(),
    })
    .strict(),
  envelope,
  'original steth: DHCP DISCOVER over qvb, message types seen at tap/qbr/qvb/qvo and the physical NIC',
  30_000,
);

export const checkDhcpOnNet = declare(
  'check_dhcp_on_net',
  z
    .object({
      net_id: z.string().min(1).max(64),
      port_ip: z.string().min(1).max(32),
      phy_iface: z.string().min(1).max(32),
      net_type: z.string().max(16).optional(),
    })
    .strict(),
  envelope,
  'original steth: ARP for the port IP from qdhcp-NET_ID, ARP operations seen per device',
  30_000,
);

export const dhcpArpFromQdhcp = declare(
  'dhcp.arpFromQdhcp',
  z.object({ networkId: z.string().uuid(), ip: ipv4, uplink: ifName.optional(), waitMs: z.number().int().min(10).max(30_000).optional() }).strict(),
  z.object({
    netns: z.string(),
    iface: z.string(),
    /** per device watched: ARP operations seen ('request' / 'reply'), or why it could not be watched */
    devices: z.array(z.object({ device: z.string(), netns: z.string().optional(), ops: z.array(z.string()), error: z.string().optional() })),
    replyMac: z.string().optional(),
  }),
  'ARP who-has the port IP from the qdhcp namespace, watched on the DHCP port, br-int, the physical bridge and NIC',
  35_000,
);

export const dhcpMethodSpecs = [dhcpPortInfo, dhcpServers, dhcpHostEntry, dhcpExchange, checkDhcpOnComp, checkDhcpOnNet, dhcpArpFromQdhcp] as const;
