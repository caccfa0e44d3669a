/**
 * Reply matching (scapy's hashret/answers): does `response` answer `request`?
 * Decided by the innermost protocol that defines a conversation:
 *  - DHCP: BOOTREPLY with the request's xid and chaddr;
 *  - probe: same probe id (a probe is "answered" by any capture of itself or an echo);
 *  - ICMP echo: echo reply with the request's identifier and sequence;
 *  - ARP: reply whose sender IP is the requested target and whose target is the asker;
 *  - any IPv4 request: an ICMP error quoting it (same src, dst, id, protocol).
 */
import { findLayer } from './frame.js';
import { ERROR_TYPES } from './icmp.js';
import type { Layer } from './types.js';

export function answers(request: readonly Layer[], response: readonly Layer[]): boolean {
  const qDhcp = findLayer(request, 'dhcp');
  if (qDhcp) {
    const r = findLayer(response, 'dhcp');
    return r !== undefined && qDhcp.op === 1 && r.op === 2 && r.xid === qDhcp.xid && r.chaddr.toLowerCase() === qDhcp.chaddr.toLowerCase();
  }
  const qProbe = findLayer(request, 'probe');
  if (qProbe) {
    const r = findLayer(response, 'probe');
    return r !== undefined && r.probeId === qProbe.probeId;
  }
  const qArp = findLayer(request, 'arp');
  if (qArp) {
    const r = findLayer(response, 'arp');
    return r !== undefined && qArp.op === 1 && r.op === 2 && r.senderIp === qArp.targetIp && r.targetIp === qArp.senderIp;
  }
  const qIp = findLayer(request, 'ipv4');
  if (!qIp) return false;
  const rIcmp = findLayer(response, 'icmp');
  if (rIcmp && ERROR_TYPES.has(rIcmp.type) && rIcmp.quoted) {
    const inner = findLayer(rIcmp.quoted, 'ipv4');
    if (inner && inner.src === qIp.src && inner.dst === qIp.dst && inner.id === qIp.id && inner.protocol === qIp.protocol) {
      // the quote carries the first 8 bytes of the payload: compare them too (DF pings all have IP id 0)
      const qq = findLayer(request, 'icmp');
      const iq = findLayer(rIcmp.quoted, 'icmp');
      if (qq && iq) return qq.type === iq.type && qq.id === iq.id && qq.seq === iq.seq;
      const qu = findLayer(request, 'udp');
      const iu = findLayer(rIcmp.quoted, 'udp');
      if (qu && iu) return qu.srcPort === iu.srcPort && qu.dstPort === iu.dstPort;
      return true;
    }
  }
  const qIcmp = findLayer(request, 'icmp');
  if (qIcmp && qIcmp.type === 8) {
    return rIcmp !== undefined && rIcmp.type === 0 && rIcmp.id === qIcmp.id && rIcmp.seq === qIcmp.seq;
  }
  const qUdp = findLayer(request, 'udp');
  const rUdp = findLayer(response, 'udp');
  const rIp = findLayer(response, 'ipv4');
  if (qUdp && rUdp && rIp) return rUdp.srcPort === qUdp.dstPort && rUdp.dstPort === qUdp.srcPort && rIp.src === qIp.dst;
  return false;
}
