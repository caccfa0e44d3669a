/**
 * Whole frames: decode through registries (EtherType → layer, IP protocol → layer,
 * UDP port → layer), keeping every layer decoded before an error; encode innermost-first
 * (gopacket SerializeLayers) with fixLengths / fixChecksums / fixNextProtocol / pad, all
 * on by default, each switchable off to craft broken frames on purpose. The caller's
 * layer objects are never mutated.
 */
import { arp } from './arp.js';
import { DEFAULT_ENCODE_OPTIONS, type DecodeCtx, type Decoded, type EncodeCtx, type LayerCodec } from './codec.js';
import { dhcp } from './dhcp.js';
import { WireError } from './errors.js';
import { MIN_FRAME, ethernet } from './ethernet.js';
import { icmp } from './icmp.js';
import { ipv4, isFragment } from './ipv4.js';
import { probe } from './probe.js';
import { raw } from './raw.js';
import type { EncodeOptions, Ipv4Repr, Layer, LayerName, LayerOf, VlanRepr } from './types.js';
import { udp } from './udp.js';
import { toHex } from './util.js';
import { decodeVlan, HEADER_LEN as VLAN_LEN, vlan } from './vlan.js';
import { vxlan } from './vxlan.js';

export const CODECS: { readonly [N in LayerName]: LayerCodec<LayerOf<N>> } = { ethernet, vlan, arp, ipv4, icmp, udp, vxlan, dhcp, probe, raw };

/** Decode registries (scapy bind_layers / gopacket EtherTypeMetadata). Extend with .set(). */
export const registries = {
  etherType: new Map<number, LayerName>([
    [0x0800, 'ipv4'],
    [0x0806, 'arp'],
    [0x8100, 'vlan'],
    [0x88a8, 'vlan'],
    [0x9100, 'vlan'],
    [0x88b5, 'probe'],
  ]),
  ipProtocol: new Map<number, LayerName>([
    [1, 'icmp'],
    [17, 'udp'],
  ]),
  /** looked up by destination port first, then source port */
  udpPort: new Map<number, LayerName>([
    [67, 'dhcp'],
    [68, 'dhcp'],
    [4789, 'vxlan'],
    [5899, 'probe'],
  ]),
};

export interface DecodedFrame {
  layers: Layer[];
  error?: WireError;
}

/** The bytes an Ethernet layer's inner layers did not claim become its padding. */
function setPadding(layers: Layer[], i: number, bytes: Uint8Array, start: number, end: number): void {
  layers[i] = { ...(layers[i] as LayerOf<'ethernet'>), padding: toHex(bytes, start, end) };
}

/** Decode a frame starting with Ethernet (or `first`). Never throws. */
export function decodeFrame(bytes: Uint8Array, first: LayerName = 'ethernet'): DecodedFrame {
  if (!(bytes instanceof Uint8Array)) return { layers: [], error: new WireError('MALFORMED', 'frame', 0, 'input is not a Uint8Array') };
  if (!BY_NAME.has(first)) return { layers: [], error: new WireError('UNSUPPORTED', String(first), 0, 'unknown first layer') };
  const layers: Layer[] = [];
  let off = 0;
  let end = bytes.length;
  let next: LayerName | undefined = first;
  let tpid = 0;
  const ctx: DecodeCtx = { ipOffset: -1, quoted: false }; // mutated, never retained by a codec
  let ethIdx = -1;
  let ethEnd = 0;
  let error: WireError | undefined;
  try {
    while (next !== undefined) {
      let d: Decoded<Layer>;
      // the layer after this one; each case reads its own repr (monomorphic) and asks the registry
      let after: LayerName | undefined;
      // one call site per codec (monomorphic) instead of a lookup through CODECS
      switch (next) {
        case 'ethernet': {
          const e = ethernet.decode(bytes, off, end, ctx);
          if (ethIdx >= 0 && end < ethEnd) setPadding(layers, ethIdx, bytes, end, ethEnd);
          ethIdx = layers.length;
          ethEnd = end;
          tpid = e.value.etherType;
          after = registries.etherType.get(tpid);
          d = e;
          break;
        }
        case 'vlan': {
          const v = decodeVlan(bytes, off, end, tpid);
          tpid = v.etherType;
          after = registries.etherType.get(tpid);
          d = { value: v, length: VLAN_LEN, end };
          break;
        }
        case 'ipv4': {
          const ip = ipv4.decode(bytes, off, end, ctx);
          ctx.ipOffset = off;
          after = isFragment(ip.value) ? undefined : registries.ipProtocol.get(ip.value.protocol);
          d = ip;
          break;
        }
        case 'udp': {
          const u = udp.decode(bytes, off, end, ctx);
          after = registries.udpPort.get(u.value.dstPort) ?? registries.udpPort.get(u.value.srcPort);
          d = u;
          break;
        }
        case 'vxlan':
          d = vxlan.decode(bytes, off, end, ctx);
          after = 'ethernet';
          break;
        case 'dhcp':
          d = dhcp.decode(bytes, off, end, ctx);
          break;
        case 'arp':
          d = arp.decode(bytes, off, end, ctx);
          break;
        case 'icmp':
          d = icmp.decode(bytes, off, end, ctx);
          break;
        default:
          d = (CODECS[next] as LayerCodec<Layer>).decode(bytes, off, end, ctx);
      }
      layers.push(d.value);
      off += d.length;
      end = d.end;
      if (d.short) {
        error = new WireError('TRUNCATED', next, off - d.length, `${next} length points past the end of the frame (${end - off + d.length} bytes left)`);
        break;
      }
      next = after;
    }
  } catch (e) {
    if (!(e instanceof WireError)) {
      // a codec bug must not escape as TypeError/RangeError: report it as MALFORMED
      error = new WireError('MALFORMED', next ?? 'frame', off, `decoder failed: ${(e as Error).message}`);
    } else error = e;
  }
  if (off < end) layers.push({ layer: 'raw', data: toHex(bytes, off, end) });
  if (ethIdx >= 0 && end < ethEnd) setPadding(layers, ethIdx, bytes, end, ethEnd);
  return error ? { layers, error } : { layers };
}

function nextEtherType(next: Layer | undefined): number | undefined {
  switch (next?.layer) {
    case 'vlan':
      return next.tpid;
    case 'ipv4':
      return 0x0800;
    case 'arp':
      return 0x0806;
    case 'probe':
      return 0x88b5;
    default:
      return undefined;
  }
}

function nextIpProtocol(next: Layer | undefined): number | undefined {
  if (next?.layer === 'udp') return 17;
  if (next?.layer === 'icmp') return 1;
  return undefined;
}

/** The repr as it will be written (fixNextProtocol applied), copied only when it changes. */
function effective(l: Layer, next: Layer | undefined, fixNext: boolean): Layer {
  if (!fixNext) return l;
  if (l.layer === 'ethernet' || l.layer === 'vlan') {
    const et = nextEtherType(next);
    if (et !== undefined && et !== l.etherType) return { ...l, etherType: et } as Layer;
  } else if (l.layer === 'ipv4') {
    const p = nextIpProtocol(next);
    if (p !== undefined && p !== l.protocol) return { ...l, protocol: p };
  }
  return l;
}

/**
 * Encode layers outermost-first as given, serialised innermost-first so lengths and
 * checksums cover what follows. Throws WireError for reprs that cannot be encoded.
 */
// scratch space reused by encodeFrame (synchronous, never re-entered by a codec)
const sEff: Layer[] = [];
let sHead = new Int32Array(16);
let sTail = new Int32Array(16);
const sIps: Array<Ipv4Repr | undefined> = [];
const sCodecs: Array<LayerCodec<Layer> | undefined> = [];
/** layer name → codec, for names coming from outside (a Map: no prototype keys) */
const BY_NAME = new Map<string, LayerCodec<Layer>>(Object.entries(CODECS) as Array<[string, LayerCodec<Layer>]>);

// Output buffers are carved from 64 KiB zeroed slabs that are never reused (like Node's own
// Buffer pool, without its per-call overhead); a slab is freed when no frame refers to it.
const SLAB = 65536;
let slab = new ArrayBuffer(SLAB);
let slabOff = 0;
function allocFrame(n: number): Buffer {
  if (n > 8192) return Buffer.alloc(n);
  if (slabOff + n > SLAB) {
    slab = new ArrayBuffer(SLAB);
    slabOff = 0;
  }
  const b = Buffer.from(slab, slabOff, n);
  slabOff += (n + 7) & ~7;
  return b;
}

export function encodeFrame(layers: readonly Layer[], opts?: EncodeOptions): Buffer {
  let o = DEFAULT_ENCODE_OPTIONS;
  if (opts !== undefined) {
    for (const k in opts) {
      o = { ...DEFAULT_ENCODE_OPTIONS, ...stripUndefined(opts) };
      break;
    }
  }
  const n = layers.length;
  if (n === 0) return Buffer.alloc(0);
  if (sHead.length < n) {
    sHead = new Int32Array(n * 2);
    sTail = new Int32Array(n * 2);
  }
  const eff = sEff;
  const head = sHead;
  const tail = sTail;
  const ips = sIps;
  const codecs = sCodecs;
  try {
    let total = 0;
    let ip: Ipv4Repr | undefined;
    for (let i = 0; i < n; i++) {
      const l = layers[i];
      const c = l === null || typeof l !== 'object' ? undefined : BY_NAME.get(l.layer);
      if (c === undefined) throw new WireError('UNSUPPORTED', String((l as { layer?: unknown } | null)?.layer), -1, 'unknown layer');
      const e = effective(l!, layers[i + 1], o.fixNextProtocol);
      eff[i] = e;
      ips[i] = ip;
      codecs[i] = c;
      if (e.layer === 'ipv4') ip = e;
      const h = c.headerLength(e);
      const t = c.trailerLength ? c.trailerLength(e) : 0;
      head[i] = h;
      tail[i] = t;
      total += h + t;
    }
    // pad only when the caller did not say what the padding is (a decoded frame carries its own)
    const first = eff[0]!;
    const frameLen = o.pad && first.layer === 'ethernet' && first.padding === undefined && total < MIN_FRAME ? MIN_FRAME : total;
    const buf = allocFrame(frameLen); // zeroed: the padding to 60 needs no fill
    // header i starts after the headers before it; its trailer follows its payload
    let start = 0;
    for (let i = 0; i < n - 1; i++) start += head[i]!;
    let inner = 0; // bytes of inner headers + inner trailers after header i
    const ctx: EncodeCtx = { payloadLength: 0, next: undefined, opts: o, ip: undefined };
    for (let i = n - 1; i >= 0; i--) {
      const e = eff[i]!;
      const c = codecs[i]!;
      const h = head[i]!;
      if (tail[i]! > 0) c.encodeTrailer!(e, buf, start + h + inner);
      ctx.payloadLength = inner;
      ctx.next = layers[i + 1];
      ctx.ip = ips[i];
      const written = c.encodeInto(e, buf, start, ctx);
      if (written !== h) throw new WireError('MALFORMED', e.layer, start, `encoder wrote ${written} bytes, expected ${h}`);
      inner += h + tail[i]!;
      if (i > 0) start -= head[i - 1]!;
    }
    return buf;
  } finally {
    // drop references so the scratch space does not keep reprs alive
    for (let i = 0; i < n; i++) {
      eff[i] = undefined as unknown as Layer;
      ips[i] = undefined;
      codecs[i] = undefined;
    }
  }
}

function stripUndefined(o: EncodeOptions): EncodeOptions {
  const r: EncodeOptions = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}

/** Total encoded length of these layers (before Ethernet padding to 60). */
export function encodingLength(layers: readonly Layer[], opts: EncodeOptions = {}): number {
  return encodeFrame(layers, { ...opts, pad: false }).length;
}

/** The first layer of that kind (outermost), or undefined. */
export function findLayer<N extends LayerName>(layers: readonly Layer[], name: N): LayerOf<N> | undefined {
  for (const l of layers) if (l.layer === name) return l as LayerOf<N>;
  return undefined;
}

/** Every layer of that kind, outermost first. */
export function findLayers<N extends LayerName>(layers: readonly Layer[], name: N): LayerOf<N>[] {
  return layers.filter((l): l is LayerOf<N> => l.layer === name);
}

/** VLAN ids of the outer Ethernet's tag stack, outer → inner (stops at the first non-VLAN layer). */
export function vlanTags(layers: readonly Layer[]): number[] {
  const out: number[] = [];
  let i = layers[0]?.layer === 'ethernet' ? 1 : 0;
  for (; i < layers.length && layers[i]!.layer === 'vlan'; i++) out.push((layers[i] as VlanRepr).vid);
  return out;
}

/** Same as vlanTags but with PCP/DEI/TPID. */
export function vlanStack(layers: readonly Layer[]): VlanRepr[] {
  const out: VlanRepr[] = [];
  let i = layers[0]?.layer === 'ethernet' ? 1 : 0;
  for (; i < layers.length && layers[i]!.layer === 'vlan'; i++) out.push(layers[i] as VlanRepr);
  return out;
}
