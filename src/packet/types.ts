/**
 * Repr types: plain, readonly, JSON-safe objects, one per protocol, discriminated by
 * `layer`. MACs 'aa:bb:cc:dd:ee:ff', IPv4 dotted quads, raw bytes lower-case hex,
 * 64-bit nanosecond timestamps decimal strings. Fields marked "decode fills" are
 * computed by the encoder when its fix* option is on (the default) and may be left out
 * when building; when the option is off the encoder writes the given value (or 0).
 */

export interface EthernetRepr {
  readonly layer: 'ethernet';
  readonly dst: string;
  readonly src: string;
  /** EtherType of the payload (fixNextProtocol sets it from the next layer) */
  readonly etherType: number;
  /** bytes after the payload no inner layer claimed (Ethernet padding / trailer), hex; when
   *  present the encoder writes exactly these and does not pad to 60 */
  readonly padding?: string;
}

export interface VlanRepr {
  readonly layer: 'vlan';
  /** TPID this tag was announced with: 0x8100 (802.1Q), 0x88a8 (802.1ad), 0x9100 ... */
  readonly tpid: number;
  readonly pcp: number;
  readonly dei: boolean;
  readonly vid: number;
  /** EtherType (or next TPID) that follows this tag */
  readonly etherType: number;
}

export interface ArpRepr {
  readonly layer: 'arp';
  /** 1 request, 2 reply; open enum (any 16-bit value round-trips) */
  readonly op: number;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

export interface Ipv4Repr {
  readonly layer: 'ipv4';
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly ttl: number;
  readonly id: number;
  readonly df: boolean;
  readonly mf: boolean;
  readonly fragOffset: number;
  /** DSCP (6 bits) and ECN (2 bits) */
  readonly dscp?: number;
  readonly ecn?: number;
  /** the reserved ("evil") flag bit */
  readonly reservedFlag?: boolean;
  /** options bytes, hex (length a multiple of 4 on the wire: the encoder pads with 0) */
  readonly options?: string;
  /** total length (decode fills; fixLengths computes) */
  readonly length?: number;
  /** header checksum (decode fills; fixChecksums computes) */
  readonly checksum?: number;
  /** decode only: header checksum verified */
  readonly checksumOk?: boolean;
}

export interface IcmpRepr {
  readonly layer: 'icmp';
  /** 0 echo reply, 3 unreachable, 8 echo request, 11 time exceeded, ...; open */
  readonly type: number;
  readonly code: number;
  /** echo request/reply (and other id/seq types): identifier and sequence */
  readonly id?: number;
  readonly seq?: number;
  /** type 3 code 4: next-hop MTU */
  readonly nextHopMtu?: number;
  /** type 5: gateway address */
  readonly gateway?: string;
  /** type 12: pointer */
  readonly pointer?: number;
  /** the 4 "rest of header" bytes as a number, for types without a named layout */
  readonly restOfHeader?: number;
  /** bytes after the 8-byte header, hex (echo data, or the quoted datagram) */
  readonly data: string;
  /** decode only, for error types: the quoted datagram decoded (IPv4 header + 8 bytes) */
  readonly quoted?: readonly Layer[];
  readonly checksum?: number;
  readonly checksumOk?: boolean;
}

export interface UdpRepr {
  readonly layer: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  /** decode fills; fixLengths computes */
  readonly length?: number;
  /** decode fills; fixChecksums computes (a computed 0 is sent as 0xffff; 0 = none) */
  readonly checksum?: number;
  /** decode only: absent when the checksum was 0 (none) or could not be verified */
  readonly checksumOk?: boolean;
}

export interface VxlanRepr {
  readonly layer: 'vxlan';
  /** 0x08 = VNI valid (I flag) */
  readonly flags: number;
  readonly vni: number;
  /** the 24 reserved bits after the flags and the 8 after the VNI */
  readonly reserved1: number;
  readonly reserved2: number;
}

/** One DHCP option exactly as on the wire. code 0 (pad) and 255 (end) carry no data. */
export interface DhcpOptionRaw {
  readonly code: number;
  /** value bytes, hex (absent for pad and end) */
  readonly data?: string;
}

export interface DhcpRepr {
  readonly layer: 'dhcp';
  /** 1 BOOTREQUEST, 2 BOOTREPLY */
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  /** 0x8000 = broadcast */
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** client hardware address: the first hlen (max 16) bytes, colon hex (a MAC for Ethernet) */
  readonly chaddr: string;
  /** the rest of the 16-byte chaddr field when not all zero, hex */
  readonly chaddrPadding?: string;
  /** server host name / boot file name as text (up to the first NUL) */
  readonly sname: string;
  readonly file: string;
  /** the whole 64/128-byte field, hex, when the text form would lose bytes (overload, junk after NUL) */
  readonly snameRaw?: string;
  readonly fileRaw?: string;
  /** options in wire order, pads and END included; absent magic cookie → see `vend` */
  readonly options: readonly DhcpOptionRaw[];
  /** bytes after END, or an unparseable tail (then `malformed` is true), hex */
  readonly tail?: string;
  readonly malformed?: boolean;
  /** BOOTP without the DHCP magic cookie: the raw vendor area, hex (options is then empty) */
  readonly vend?: string;
}

export interface ProbeRepr {
  readonly layer: 'probe';
  /** 8 random bytes as 16 hex digits */
  readonly probeId: string;
  readonly seq: number;
  /** send time, ns since the epoch, decimal string */
  readonly sentNs: string;
  /** node that sent it (UTF-8, up to 255 bytes) */
  readonly origin: string;
  /** zero bytes after the header to grow the frame to a size (MTU probes) */
  readonly fill?: number;
  /** format version (1) */
  readonly version?: number;
}

export interface RawRepr {
  readonly layer: 'raw';
  readonly data: string;
}

export type Layer = EthernetRepr | VlanRepr | ArpRepr | Ipv4Repr | IcmpRepr | UdpRepr | VxlanRepr | DhcpRepr | ProbeRepr | RawRepr;
export type LayerName = Layer['layer'];
export type LayerOf<N extends LayerName> = Extract<Layer, { layer: N }>;

export interface EncodeOptions {
  /** IPv4 total length, UDP length, probe length (default true) */
  fixLengths?: boolean;
  /** IPv4 header, ICMP and UDP checksums (default true) */
  fixChecksums?: boolean;
  /** EtherType / TPID / IP protocol from the next layer (default true) */
  fixNextProtocol?: boolean;
  /** pad the outermost Ethernet frame to 60 bytes (default true) */
  pad?: boolean;
}

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  VLAN_9100: 0x9100,
  PROBE: 0x88b5,
} as const;

export const IPPROTO = { ICMP: 1, UDP: 17 } as const;

export const UDP_PORT = { DHCP_SERVER: 67, DHCP_CLIENT: 68, VXLAN: 4789, PROBE: 5899 } as const;
