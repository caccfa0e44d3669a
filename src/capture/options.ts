/**
 * Validation shared by captures and injectors: everything is checked in JS before
 * it crosses into the addon, and reported as PcapError('EINVAL').
 */
import { isAbsolute } from 'node:path';
import { assertIfName, assertNetnsName } from '../validate.js';
import { PcapError } from './errors.js';

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PcapError) throw err;
    throw new PcapError((err as Error).message, 'EINVAL', undefined, { cause: err });
  }
}

export function checkIface(iface: unknown): string {
  return wrap(() => assertIfName(iface));
}

/** A namespace name (→ /run/netns/NAME) or an absolute path (/proc/PID/ns/net). */
export function netnsPath(netns: string | undefined): string | undefined {
  if (netns === undefined) return undefined;
  if (typeof netns !== 'string') throw new PcapError('netns must be a string', 'EINVAL');
  if (netns.includes('/')) {
    if (!isAbsolute(netns) || netns.includes('\0') || netns.split('/').includes('..')) {
      throw new PcapError(`netns path '${netns.slice(0, 80)}' must be absolute and plain`, 'EINVAL');
    }
    return netns;
  }
  return `/run/netns/${wrap(() => assertNetnsName(netns))}`;
}

export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new PcapError(`${name} must be a whole number in ${min}..${max}`, 'EINVAL');
  }
  return v;
}

export const MAX_FRAME = 65535;
export const MIN_FRAME = 14;

/** A frame to send: a Uint8Array of 14..65535 bytes. */
export function checkFrame(f: unknown, index?: number): Uint8Array {
  const at = index === undefined ? 'frame' : `frame ${index}`;
  if (!(f instanceof Uint8Array)) throw new PcapError(`${at} must be a Uint8Array`, 'EINVAL');
  if (f.length > MAX_FRAME) throw new PcapError(`${at} is ${f.length} bytes, more than ${MAX_FRAME}`, 'EMSGSIZE');
  if (f.length < MIN_FRAME) throw new PcapError(`${at} is ${f.length} bytes, shorter than an Ethernet header`, 'EINVAL');
  return f;
}
