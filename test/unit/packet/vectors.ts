/** Helpers for the real-tool vectors in test/fixtures/vectors (provenance in NAME.txt). */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../../src/capture/pcapfile.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/unit/packet → repo/test/fixtures/vectors (fixtures are not compiled) */
export const VECTORS_DIR = resolve(here, '../../../../test/fixtures/vectors');

export function vectorFrames(name: string): Uint8Array[] {
  return readPcap(readFileSync(join(VECTORS_DIR, name))).frames.map((f) => f.bytes);
}
