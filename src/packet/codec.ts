/**
 * The contract every protocol file implements (smoltcp's Repr::parse / buffer_len /
 * emit, dns-packet's decode / encodingLength / encode): decode validates the length
 * before reading a field and returns the repr plus how many bytes its header took;
 * encodeInto writes exactly headerLength(repr) bytes at an offset.
 * frame.ts composes them; each can also be used alone.
 */
import type { EncodeOptions, Layer } from './types.js';

export interface DecodeCtx {
  /** offset of the enclosing IPv4 header (for the UDP pseudo-header), -1 if none */
  ipOffset: number;
  /** decoding an ICMP-quoted datagram: lengths may point past the quote */
  quoted: boolean;
}

export interface Decoded<R> {
  value: R;
  /** header bytes consumed */
  length: number;
  /** where this layer's payload ends (≤ the end it was given) */
  end: number;
  /** the layer claims more payload than there is (snaplen, truncated quote) */
  short?: boolean;
}

export interface EncodeCtx {
  /** bytes after this header that belong to it (inner headers, payloads, inner trailers) */
  payloadLength: number;
  next: Layer | undefined;
  opts: Required<EncodeOptions>;
  /** nearest enclosing IPv4 repr (UDP pseudo-header) */
  ip: { src: string; dst: string } | undefined;
}

export interface LayerCodec<R> {
  decode(buf: Uint8Array, off: number, end: number, ctx: DecodeCtx): Decoded<R>;
  /** header bytes this repr encodes to */
  headerLength(repr: R): number;
  /** bytes it writes after its payload (Ethernet padding) */
  trailerLength?(repr: R): number;
  /** writes the header at off (payload already written after it); returns header length */
  encodeInto(repr: R, buf: Uint8Array, off: number, ctx: EncodeCtx): number;
  /** writes the trailer at off (after the payload) */
  encodeTrailer?(repr: R, buf: Uint8Array, off: number): void;
}

export const DEFAULT_DECODE_CTX: DecodeCtx = { ipOffset: -1, quoted: false };

export const DEFAULT_ENCODE_OPTIONS: Required<EncodeOptions> = { fixLengths: true, fixChecksums: true, fixNextProtocol: true, pad: true };

/** Standalone encode helper for single-layer codecs (tests, builders). */
export function encodeLayer<R>(codec: LayerCodec<R>, repr: R, buf?: Uint8Array, offset = 0, payloadLength = 0): Uint8Array {
  const len = codec.headerLength(repr);
  const out = buf ?? Buffer.alloc(offset + len);
  codec.encodeInto(repr, out, offset, { payloadLength, next: undefined, opts: { ...DEFAULT_ENCODE_OPTIONS, fixNextProtocol: false }, ip: undefined });
  return out;
}
