/**
 * The one place the libpcap addon is loaded (node-gyp-build: prebuilds/ or
 * build/Release/steth_pcap.node under the package root). Loaded lazily on first
 * use, so everything else in steth (the codec, pcap files) works without it.
 * A missing or broken build is a PcapError('ENOADDON') saying how to build it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapError } from './errors.js';
import type { NativeBinding } from './native.js';

const require = createRequire(import.meta.url);

/** Package root: the nearest directory above this file that holds binding.gyp. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

let cached: NativeBinding | undefined;
let override: NativeBinding | undefined;

/** The addon, loaded once; its error class is set to PcapError. */
export function loadBinding(): NativeBinding {
  if (override) return override;
  if (cached) return cached;
  let b: NativeBinding;
  try {
    const gypBuild = require('node-gyp-build') as (dir: string) => unknown;
    b = gypBuild(packageRoot()) as NativeBinding;
  } catch (err) {
    throw new PcapError(`the libpcap addon is not available: ${(err as Error).message.split('\n')[0]}`, 'ENOADDON', undefined, { cause: err });
  }
  b.setErrorClass(PcapError);
  cached = b;
  return b;
}

/** Is the addon loadable here (for gating tests and `doctor`)? */
export function addonAvailable(): boolean {
  try {
    loadBinding();
    return true;
  } catch {
    return false;
  }
}

/** Tests: make every open/inject use this binding (undefined = back to the addon). */
export function setBindingForTesting(b: NativeBinding | undefined): void {
  override = b;
  if (b) b.setErrorClass(PcapError);
}
