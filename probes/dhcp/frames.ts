/**
 * Captured bytes → the facts correlation needs (FrameObs), and an OFFER/ACK → the
 * options shown to the operator. Plain frames, 802.1Q-tagged frames and VXLAN-
 * encapsulated frames (outer Ethernet/IPv4/UDP 4789/VXLAN, then the VM's frame) alike.
 */
// the decoder and the DHCP option accessors, not the packet index: check-dhcp's CLI
// side never needs the frame builders, formatters or answers()
import { decodeFrame } from '../../src/packet/frame.js';
import { dhcpGet, dhcpMessageType } from '../../src/packet/dhcp-options.js';
import type { DhcpRepr, Ipv4Repr, Layer, VlanRepr, EthernetRepr } from '../../src/packet/index.js';
import type { FrameObs, OfferSummary } from './model.js';

export function dhcpOf(layers: readonly Layer[]): DhcpRepr | undefined {
  return layers.find((l): l is DhcpRepr => l.layer === 'dhcp');
}

/** Decode one captured frame; undefined unless it is DHCP with this xid. */
export function frameObs(bytes: Uint8Array, tsNs: string, xid: number, direction?: string): FrameObs | undefined {
  const { layers } = decodeFrame(bytes);
  const di = layers.findIndex((l) => l.layer === 'dhcp');
  if (di < 0) return undefined;
  const d = layers[di] as DhcpRepr;
  if (d.xid !== xid) return undefined;
  const vx = layers.findIndex((l) => l.layer === 'vxlan');
  const outerEnd = vx >= 0 ? vx : di;
  const vlanTags = layers.slice(0, outerEnd).filter((l): l is VlanRepr => l.layer === 'vlan').map((l) => l.vid);
  const inner = layers.slice(vx >= 0 ? vx : 0, di);
  const eth = inner.find((l): l is EthernetRepr => l.layer === 'ethernet');
  const obs: FrameObs = { tsNs, msgType: dhcpMessageType(d) ?? 0, xid: d.xid, vlanTags, src: eth?.src ?? '', dst: eth?.dst ?? '' };
  if (vx >= 0) {
    const outerIp = layers.slice(0, vx).filter((l): l is Ipv4Repr => l.layer === 'ipv4').pop();
    const v = layers[vx] as Extract<Layer, { layer: 'vxlan' }>;
    obs.encap = { vni: v.vni, outerSrc: outerIp?.src ?? '', outerDst: outerIp?.dst ?? '' };
  }
  if (d.op === 2) obs.yiaddr = d.yiaddr;
  const sid = dhcpGet(d, 'serverId');
  if (sid !== undefined) obs.serverId = sid;
  if (direction !== undefined) obs.direction = direction;
  return obs;
}

/** The options an operator wants to see in an OFFER / ACK. */
export function offerSummary(layers: readonly Layer[]): OfferSummary | undefined {
  const d = dhcpOf(layers);
  if (!d) return undefined;
  const eth = layers.find((l): l is EthernetRepr => l.layer === 'ethernet');
  const ip = layers.filter((l): l is Ipv4Repr => l.layer === 'ipv4').pop();
  const o: OfferSummary = { server: dhcpGet(d, 'serverId') ?? ip?.src ?? d.siaddr, serverMac: eth?.src ?? '', yiaddr: d.yiaddr };
  const router = dhcpGet(d, 'routers');
  if (router) o.router = [...router];
  const dns = dhcpGet(d, 'dnsServers');
  if (dns) o.dns = [...dns];
  const mtu = dhcpGet(d, 'interfaceMtu');
  if (mtu !== undefined) o.mtu = mtu;
  const routes = dhcpGet(d, 'classlessRoutes');
  if (routes) o.classlessRoutes = routes.map((r) => ({ destination: r.dest, gateway: r.router }));
  const lease = dhcpGet(d, 'leaseTime');
  if (lease !== undefined) o.leaseTime = lease;
  const mask = dhcpGet(d, 'subnetMask');
  if (mask !== undefined) o.subnetMask = mask;
  const dom = dhcpGet(d, 'domainName');
  if (dom !== undefined) o.domain = dom;
  return o;
}
