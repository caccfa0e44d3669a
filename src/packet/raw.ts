/** Bytes no codec claimed (or claimed and failed on): kept as hex so frames round-trip. */
import type { LayerCodec } from './codec.js';
import type { RawRepr } from './types.js';
import { hexLength, toHex, writeHex } from './util.js';

export const raw: LayerCodec<RawRepr> = {
  decode(buf, off, end) {
    return { value: { layer: 'raw', data: toHex(buf, off, end) }, length: end - off, end };
  },
  headerLength: (r) => hexLength(r.data, 'raw', 'data'),
  encodeInto(r, buf, off) {
    return writeHex(r.data, buf, off, 'raw', 'data');
  },
};
