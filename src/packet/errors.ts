/**
 * The only error the codecs raise. Decoders never throw anything else: a frame that is
 * too short is TRUNCATED, one whose fields contradict each other MALFORMED, one we do not
 * speak (ARP over token ring, a foreign 0x88B5 payload) UNSUPPORTED. Encoders throw it
 * too, for reprs that cannot be put on the wire (VID 4095, a MAC that is not a MAC).
 * A wrong checksum or length is not an error: it is reported as a field (checksumOk).
 */
export type WireErrorCode = 'TRUNCATED' | 'MALFORMED' | 'UNSUPPORTED';

export class WireError extends Error {
  override readonly name = 'WireError';
  readonly code: WireErrorCode;
  /** the layer being decoded/encoded ('ethernet', 'vlan', 'dhcp', ...) */
  readonly layer: string;
  /** byte offset in the frame where the problem was found (-1 when not known) */
  readonly offset: number;

  constructor(code: WireErrorCode, layer: string, offset: number, message: string) {
    super(`${layer}: ${message} (${code} at byte ${offset})`);
    this.code = code;
    this.layer = layer;
    this.offset = offset;
  }

  toJSON(): { code: WireErrorCode; layer: string; offset: number; message: string } {
    return { code: this.code, layer: this.layer, offset: this.offset, message: this.message };
  }
}

export const truncated = (layer: string, offset: number, need: number, have: number): WireError =>
  new WireError('TRUNCATED', layer, offset, `needs ${need} bytes, ${have} left`);
export const malformed = (layer: string, offset: number, message: string): WireError => new WireError('MALFORMED', layer, offset, message);
export const unsupported = (layer: string, offset: number, message: string): WireError => new WireError('UNSUPPORTED', layer, offset, message);
