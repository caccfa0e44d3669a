/**
 * One-line human summaries of decoded frames (what `steth decode` prints), and a
 * JSON view with enum names added. Open enums print as unknown(N).
 */
import { ARP_OP } from './arp.js';
import { DHCP_MESSAGE_TYPE } from './dhcp.js';
import { describeDhcpOptions, dhcpMessageType } from './dhcp-options.js';
import type { WireError } from './errors.js';
import { ICMP_TYPE, UNREACH_CODE } from './icmp.js';
import { IP_PROTO } from './ipv4.js';
import type { Layer } from './types.js';
import { enumName } from './util.js';

const hex16 = (n: number): string => '0x' + n.toString(16).padStart(4, '0');

export function layerSummary(l: Layer): string {
  switch (l.layer) {
    case 'ethernet':
      return `${l.src} > ${l.dst}`;
    case 'vlan':
      return `${l.tpid === 0x88a8 ? '802.1ad' : l.tpid === 0x8100 ? '802.1Q' : `tag(${hex16(l.tpid)})`} vlan ${l.vid}${l.pcp ? ` pcp ${l.pcp}` : ''}${l.dei ? ' dei' : ''}`;
    case 'arp': {
      const op = enumName(ARP_OP, l.op);
      if (l.op === 1) return `ARP request who-has ${l.targetIp} tell ${l.senderIp} (${l.senderMac})`;
      if (l.op === 2) return `ARP reply ${l.senderIp} is-at ${l.senderMac} to ${l.targetIp}`;
      return `ARP ${op} ${l.senderIp} (${l.senderMac}) > ${l.targetIp} (${l.targetMac})`;
    }
    case 'ipv4': {
      const flags = [l.df ? 'DF' : '', l.mf ? 'MF' : ''].filter(Boolean).join(',');
      const frag = l.fragOffset ? ` frag ${l.fragOffset * 8}` : '';
      const proto = l.protocol === 1 || l.protocol === 17 ? '' : ` proto ${IP_PROTO[l.protocol] ?? l.protocol}`;
      const bad = l.checksumOk === false ? ' [bad ip checksum]' : '';
      return `IPv4 ${l.src} > ${l.dst} ttl ${l.ttl} id ${l.id}${flags ? ` [${flags}]` : ''}${frag}${proto}${bad}`;
    }
    case 'icmp': {
      let s = `ICMP ${enumName(ICMP_TYPE, l.type)}`;
      if (l.type === 3) s += ` ${enumName(UNREACH_CODE, l.code)}`;
      else if (l.code !== 0) s += ` code ${l.code}`;
      if (l.id !== undefined) s += ` id ${l.id} seq ${l.seq}`;
      if (l.nextHopMtu !== undefined) s += ` mtu ${l.nextHopMtu}`;
      if (l.gateway !== undefined) s += ` gateway ${l.gateway}`;
      if (l.quoted) s += ` [quoting ${l.quoted.map(layerSummary).join(' ')}]`;
      if (l.checksumOk === false) s += ' [bad icmp checksum]';
      return s;
    }
    case 'udp':
      return `UDP ${l.srcPort} > ${l.dstPort}${l.checksumOk === false ? ' [bad udp checksum]' : ''}`;
    case 'vxlan':
      return `VXLAN vni ${l.vni} |`;
    case 'dhcp': {
      const t = dhcpMessageType(l);
      const name = t === undefined ? 'BOOTP' : `DHCP ${enumName(DHCP_MESSAGE_TYPE, t)}`;
      let s = `${name} xid 0x${l.xid.toString(16).padStart(8, '0')} chaddr ${l.chaddr}`;
      if (l.yiaddr !== '0.0.0.0') s += ` yiaddr ${l.yiaddr}`;
      if (l.ciaddr !== '0.0.0.0') s += ` ciaddr ${l.ciaddr}`;
      const opts = describeDhcpOptions(l).filter((o) => o.code !== 53);
      const show = opts.filter((o) => [50, 54, 1, 3, 51, 12].includes(o.code)).map((o) => `${o.name}=${Array.isArray(o.value) ? o.value.join(',') : String(o.value)}`);
      if (show.length) s += ` ${show.join(' ')}`;
      if (l.malformed) s += ' [malformed options]';
      return s;
    }
    case 'probe':
      return `PROBE id ${l.probeId} seq ${l.seq} from ${JSON.stringify(l.origin)}${l.fill ? ` +${l.fill}` : ''}`;
    case 'raw':
      return `${l.data.length / 2} bytes`;
  }
}

/** "src > dst  802.1Q vlan 100  IPv4 ...  UDP 68 > 67  DHCP DISCOVER ..." */
const ETHER_NAMES: Readonly<Record<number, string>> = { 0x86dd: 'IPv6', 0x88cc: 'LLDP', 0x8809: 'slow protocols', 0x88e5: 'MACsec', 0x8847: 'MPLS', 0x8035: 'RARP', 0x0842: 'Wake-on-LAN' };

export function summarize(layers: readonly Layer[], error?: WireError): string {
  const parts = layers.map((l, i) => {
    const prev = layers[i - 1];
    if (l.layer === 'raw' && !error && (prev?.layer === 'ethernet' || prev?.layer === 'vlan')) {
      return `${ETHER_NAMES[prev.etherType] ?? 'EtherType'} (0x${prev.etherType.toString(16).padStart(4, '0')}) ${l.data.length / 2} bytes`;
    }
    if (l.layer === 'raw' && !error && prev?.layer === 'ipv4') return `${IP_PROTO[prev.protocol] ?? `proto ${prev.protocol}`} ${l.data.length / 2} bytes`;
    return layerSummary(l);
  });
  if (error) parts.push(`[${error.code} ${error.layer} at byte ${error.offset}]`);
  return parts.join(', ');
}
