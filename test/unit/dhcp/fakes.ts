/**
 * Fake observations for the pure DHCP correlation: a port as the agents would report
 * it, and what each capture point would see in a healthy exchange. Tests mutate a
 * copy to stage one fault at a time.
 */
import type { CapturePoint, DhcpServerFacts, ExchangeResult, FrameObs, HopPlan, PointObs, ResolvedPort } from '../../../probes/dhcp/model.js';
import { planHops } from '../../../probes/dhcp/plan.js';

export const PORT_ID = '5b7e1c2a-9d3f-4e1a-8b2c-0d1e2f3a4b5c';
export const MAC = 'fa:16:3e:11:22:33';
export const XID = 0x1a2b3c4d;
const SHORT = PORT_ID.slice(0, 11);

export function server(over: Partial<DhcpServerFacts> = {}): DhcpServerFacts {
  return {
    node: 'network-1',
    netns: 'qdhcp-0f0e0d0c-0b0a-4909-8807-060504030201',
    networkId: '0f0e0d0c-0b0a-4909-8807-060504030201',
    iface: 'tapd1d2d3d4-d5',
    mac: 'fa:16:3e:00:00:02',
    ips: ['10.9.100.2/24'],
    localVlan: 7,
    segmentation: { type: 'vlan', id: 100 },
    uplink: { name: 'eth1', exists: true, state: 'UP', adminUp: true },
    underlay: { localIp: '10.9.1.1', remotes: ['10.9.1.2'] },
    dnsmasq: { running: true, pid: 4242, hostsFile: '/run/lab/host' },
    hostEntry: { mac: MAC, ip: '10.9.100.10' },
    hostsFileRead: true,
    vswitchdRunning: true,
    warnings: [],
    ...over,
  };
}

export function hybridPort(opts: { type?: 'vlan' | 'vxlan' } = {}): ResolvedPort {
  const type = opts.type ?? 'vlan';
  const seg = type === 'vlan' ? 100 : 1001;
  return {
    portId: PORT_ID,
    mac: MAC,
    fixedIps: ['10.9.100.10'],
    host: 'compute-1',
    ovs: { name: `qvo${SHORT}`, bridge: 'br-int', tag: 3, ofport: 5, externalIds: { 'iface-id': PORT_ID, 'attached-mac': MAC }, error: null },
    hybrid: true,
    network: { type, segmentationId: seg },
    hostFacts: {
      node: 'compute-1',
      ovs: null,
      devices: {
        tap: { name: `tap${SHORT}`, exists: true, state: 'UP', adminUp: true, master: `qbr${SHORT}` },
        qbr: { name: `qbr${SHORT}`, exists: true, state: 'UP', adminUp: true },
        qvb: { name: `qvb${SHORT}`, exists: true, state: 'UP', adminUp: true, master: `qbr${SHORT}` },
        qvo: { name: `qvo${SHORT}`, exists: true, state: 'UP', adminUp: true },
      },
      uplink: { name: 'eth1', exists: true, state: 'UP', adminUp: true },
      segmentation: { type, id: seg, bridge: type === 'vlan' ? 'br-eth1' : 'br-tun' },
      underlay: { localIp: '10.9.1.2', remotes: ['10.9.1.1'] },
      vswitchdRunning: true,
      warnings: [],
    },
    servers: [server(type === 'vxlan' ? { segmentation: { type: 'vxlan', id: 1001 } } : {})],
    source: 'ovsdb',
    warnings: [],
  };
}

export function nonHybridPort(): ResolvedPort {
  const p = hybridPort();
  p.hybrid = false;
  p.ovs = { ...p.ovs!, name: `tap${SHORT}` };
  p.hostFacts.devices = { tap: { name: `tap${SHORT}`, exists: true, state: 'UP', adminUp: true, master: 'ovs-system' } };
  return p;
}

const T0 = 1_700_000_000_000_000_000n;
const ns = (ms: number): string => String(T0 + BigInt(Math.round(ms * 1e6)));

function frame(msgType: number, ms: number, p: CapturePoint, port: ResolvedPort): FrameObs {
  const f: FrameObs = { tsNs: ns(ms), msgType, xid: XID, vlanTags: [], src: msgType === 1 ? MAC : '', dst: 'ff:ff:ff:ff:ff:ff' };
  if (msgType === 2) {
    f.src = 'fa:16:3e:00:00:02';
    f.yiaddr = port.fixedIps[0]!;
  }
  if (p.role === 'compute-uplink' || p.role === 'dhcp-uplink') {
    if (port.network.type === 'vlan') f.vlanTags = [port.network.segmentationId!];
    else f.encap = { vni: port.network.segmentationId!, outerSrc: msgType === 1 ? '10.9.1.2' : '10.9.1.1', outerDst: msgType === 1 ? '10.9.1.1' : '10.9.1.2' };
  }
  return f;
}

/** What every planned point sees when everything works. */
export function healthy(port: ResolvedPort): { plan: HopPlan; obs: PointObs[]; exchange: ExchangeResult } {
  const plan = planHops(port);
  const obs: PointObs[] = plan.points.map((p, i) => {
    const frames: FrameObs[] = [];
    if (p.expectDiscover) frames.push(frame(1, 0.1 + i * 0.1, p, port));
    if (p.expectOffer) frames.push(frame(2, 5 - i * 0.1, p, port));
    return { point: p, status: p.unobservable ? 'unarmed' : 'ok', frames: p.unobservable ? [] : frames };
  });
  const exchange: ExchangeResult = {
    xid: XID,
    sentTsNs: ns(0),
    offers: [{ tsNs: ns(5.5), server: '10.9.100.2', serverMac: 'fa:16:3e:00:00:02', yiaddr: port.fixedIps[0]!, router: ['10.9.100.1'], dns: ['10.9.100.2'], mtu: 1500, leaseTime: 86400 }],
    released: false,
  };
  return { plan, obs, exchange };
}

/** Remove frames of a DHCP type at the points with this role (and node, when given). */
export function drop(obs: PointObs[], role: string, msgType: number, node?: string): void {
  for (const o of obs) if (o.point.role === role && (node === undefined || o.point.node === node)) o.frames = o.frames.filter((f) => f.msgType !== msgType);
}

export function at(obs: PointObs[], role: string): PointObs {
  const o = obs.find((x) => x.point.role === role);
  if (!o) throw new Error(`no point ${role}`);
  return o;
}
