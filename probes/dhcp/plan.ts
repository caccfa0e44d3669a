/**
 * Pure: from what was learnt about a port (ResolvedPort) to where to capture and where
 * to inject. No host access. Devices are used only when an agent reported them as
 * existing; a DOWN device cannot be opened by libpcap, so it is planned as unobservable
 * with the reason (the verdict then says what could not be seen).
 */
import type { CapturePoint, DeviceFact, HopPlan, HopRole, InjectionPlan, ResolvedPort } from './model.js';

function observable(dev: DeviceFact | undefined): string | undefined {
  if (!dev) return 'not found';
  if (!dev.exists) return `${dev.name} does not exist`;
  if (dev.state !== undefined && /down/i.test(dev.state) && dev.adminUp === false) return `${dev.name} is administratively down`;
  if (dev.adminUp === false) return `${dev.name} is administratively down`;
  return undefined;
}

function point(p: Omit<CapturePoint, 'key'>): CapturePoint {
  const key = `${p.node}/${p.netns ? `${p.netns}/` : ''}${p.iface}`;
  const out: CapturePoint = { key, ...p };
  return out;
}

export function planHops(port: ResolvedPort): HopPlan {
  const points: CapturePoint[] = [];
  const blockers: string[] = [];
  const warnings: string[] = [];
  const f = port.hostFacts;
  const net = port.network;
  const vlanTag = net.type === 'vlan' ? net.segmentationId : undefined;

  // --- injection point (where the original did: qvb; tap side for non-hybrid) ---
  let injection: InjectionPlan | null = null;
  const qvb = f.devices.qvb;
  if (port.hybrid && qvb?.exists) {
    injection = { node: port.host, mode: 'pcap', iface: qvb.name, describe: `${qvb.name} (veth towards qvo, as the original steth)` };
  } else if (port.ovs && port.ovs.ofport !== null && port.ovs.ofport > 0) {
    injection = {
      node: port.host,
      mode: 'packet-out',
      iface: port.ovs.name,
      bridge: port.ovs.bridge,
      ofport: port.ovs.ofport,
      describe: `OpenFlow packet-out on ${port.ovs.bridge} as if received on ${port.ovs.name} (port ${port.ovs.ofport})`,
    };
  } else if (port.ovs) {
    blockers.push(`${port.ovs.name} has no OpenFlow port on ${port.ovs.bridge}${port.ovs.error ? ` (${port.ovs.error})` : ''}: cannot send as the VM`);
  } else {
    blockers.push(`no OVS interface on ${port.host} carries iface-id ${port.portId}: nothing to send from`);
  }
  if (!port.mac) blockers.push('the port MAC is unknown');

  const injectRole: HopRole | undefined = injection?.mode === 'pcap' ? 'qvb' : injection ? 'qvo' : undefined;
  const sentFromOrder = injectRole === 'qvb' ? 2 : 3;

  // --- compute node chain ---
  const chain: Array<['tap' | 'qbr' | 'qvb' | 'qvo', number]> = [
    ['tap', 0],
    ['qbr', 1],
    ['qvb', 2],
    ['qvo', 3],
  ];
  for (const [role, order] of chain) {
    const dev = f.devices[role];
    if (!dev) continue;
    if (!dev.exists && !port.hybrid && role !== 'tap') continue;
    // A non-hybrid port's tap is the OVS port itself: packet-out does not cross it.
    let expectDiscover = order >= sentFromOrder;
    if (injection?.mode === 'packet-out' && role === 'tap') expectDiscover = false;
    const p = point({ node: port.host, role, iface: dev.name, expectDiscover, expectOffer: true });
    const why = observable(dev);
    if (why) p.unobservable = why;
    points.push(p);
  }

  // --- compute uplink ---
  if (f.uplink) {
    const p = point({ node: port.host, role: 'compute-uplink', iface: f.uplink.name, expectDiscover: true, expectOffer: true });
    if (vlanTag !== undefined) p.expectTag = vlanTag;
    if (net.type === 'vxlan') {
      p.encap = 'vxlan';
      if (net.segmentationId !== undefined) p.expectVni = net.segmentationId;
      const dst = port.servers.find((s) => s.node !== port.host)?.underlay?.localIp;
      if (dst) p.expectOuterDst = dst;
    }
    const why = observable(f.uplink);
    if (why) p.unobservable = why;
    points.push(p);
  }

  // --- DHCP servers: their uplink (when on another node) and the qdhcp port ---
  const seenUplinks = new Set<string>();
  for (const s of port.servers) {
    if (s.node !== port.host && s.uplink && !seenUplinks.has(s.node)) {
      seenUplinks.add(s.node);
      const p = point({ node: s.node, role: 'dhcp-uplink', iface: s.uplink.name, expectDiscover: true, expectOffer: true });
      if (vlanTag !== undefined) p.expectTag = vlanTag;
      if (net.type === 'vxlan') {
        p.encap = 'vxlan';
        if (net.segmentationId !== undefined) p.expectVni = net.segmentationId;
        if (s.underlay?.localIp) p.expectOuterDst = s.underlay.localIp;
      }
      const why = observable(s.uplink);
      if (why) p.unobservable = why;
      points.push(p);
    }
    if (s.iface) {
      const p = point({ node: s.node, role: 'qdhcp', iface: s.iface, netns: s.netns, expectDiscover: true, expectOffer: true });
      points.push(p);
    } else {
      points.push({ key: `${s.node}/${s.netns}/?`, node: s.node, role: 'qdhcp', iface: '?', netns: s.netns, expectDiscover: true, expectOffer: true, unobservable: `no DHCP port found in ${s.netns}` });
    }
  }
  if (port.servers.length === 0) warnings.push('no DHCP server (qdhcp namespace) found for this network on any agent');

  points.sort((a, b) => HOP_INDEX[a.role] - HOP_INDEX[b.role]);
  return { points, injection, blockers, warnings };
}

const HOP_INDEX: Record<HopRole, number> = { tap: 0, qbr: 1, qvb: 2, qvo: 3, 'compute-uplink': 4, 'dhcp-uplink': 5, qdhcp: 6 };

/**
 * BPF text for one point. Only a number we generated (the xid) goes in: nothing a user
 * typed is spliced. VLAN-aware the way libpcap needs it: every untagged form first, then
 * one `vlan and (...)` (the `vlan` keyword shifts the offsets of everything after it).
 * Uplinks also match the VXLAN-encapsulated form (inner BOOTP xid at udp[62:4]: 8 UDP +
 * 8 VXLAN + 14 Ethernet + 20 IPv4 + 8 UDP + 4).
 */
export function dhcpFilter(xid: number, opts: { vxlan?: boolean } = {}): string {
  if (!Number.isInteger(xid) || xid < 0 || xid > 0xffffffff) throw new RangeError('xid out of range');
  const hex = `0x${xid.toString(16).padStart(8, '0')}`;
  const forms = [`udp and (port 67 or port 68) and udp[12:4] = ${hex}`];
  if (opts.vxlan) forms.push(`udp dst port 4789 and udp[62:4] = ${hex}`);
  const any = forms.map((f) => `(${f})`).join(' or ');
  return `${any} or (vlan and (${any}))`;
}
