/**
 * steth's packet codec: plain JSON-safe reprs per protocol, decodeFrame / encodeFrame,
 * typed DHCP options, reply matching, builders for the frames the probes send.
 * Pure TypeScript, no native code.
 */
export type {
  ArpRepr, DhcpOptionRaw, DhcpRepr, EncodeOptions, EthernetRepr, IcmpRepr, Ipv4Repr, Layer, LayerName, LayerOf, ProbeRepr, RawRepr, UdpRepr, VlanRepr, VxlanRepr,
} from './types.js';
export { ETHERTYPE, IPPROTO, UDP_PORT } from './types.js';
export { WireError, type WireErrorCode } from './errors.js';
export type { DecodeCtx, Decoded, EncodeCtx, LayerCodec } from './codec.js';
export { CODECS, decodeFrame, encodeFrame, encodingLength, findLayer, findLayers, registries, vlanStack, vlanTags, type DecodedFrame } from './frame.js';
export { ethernet, MIN_FRAME } from './ethernet.js';
export { vlan, decodeVlan, VLAN_TPIDS } from './vlan.js';
export { arp, ARP_OP } from './arp.js';
export { ipv4, IP_PROTO, isFragment } from './ipv4.js';
export { icmp, ICMP_TYPE, UNREACH_CODE, ERROR_TYPES as ICMP_ERROR_TYPES, decodeQuoted } from './icmp.js';
export { udp } from './udp.js';
export { vxlan } from './vxlan.js';
export { dhcp, DHCP_MESSAGE_TYPE, FLAG_BROADCAST as DHCP_FLAG_BROADCAST, MAGIC as DHCP_MAGIC } from './dhcp.js';
export {
  DHCP_OPTIONS, DHCP_OPTION_NAMES, describeDhcpOptions, dhcpGet, dhcpMessageType, dhcpMessageTypeName, dhcpOption, dhcpOptionData, dhcpOptionList,
  type ClasslessRoute, type ClientId, type DescribedOption, type DhcpOptionName, type DhcpOptionValue, type SubOption,
} from './dhcp-options.js';
export { probe, newProbeId, isProbePayload, MAGIC as PROBE_MAGIC } from './probe.js';
export { raw } from './raw.js';
export { answers } from './answers.js';
export {
  arpReply, arpRequest, BROADCAST_MAC, DEFAULT_PRL, dhcpDiscover, dhcpRelease, dhcpRequest, ethernetWithTags, icmpEcho, nowNs, probeFrame, ZERO_MAC,
  type DhcpClientSpec, type EchoSpec, type ProbeSpec, type VlanTagSpec,
} from './builders.js';
export { layerSummary, summarize } from './format.js';
export { enumName, toHex, hexToBytes } from './util.js';
