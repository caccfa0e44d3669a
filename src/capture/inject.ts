/**
 * Injecting raw Ethernet frames. An Injector is a pcap handle opened for sending
 * only: a minimal ring and a kernel filter that accepts nothing, so it never copies
 * traffic it does not read. Frames under 60 bytes are padded with zeros unless
 * `pad: false` (the kernel does not pad on veth). Batches go out with sendmmsg.
 * A Capture can send through its own socket too (Capture.send): one handle where a
 * probe both listens and sends on the same device.
 */
import { loadBinding } from './binding.js';
import { PcapError } from './errors.js';
import type { NativeBinding, NativeHandle } from './native.js';
import { checkFrame, checkIface, netnsPath } from './options.js';

export interface InjectOptions {
  /** namespace name or absolute path; entered only to create the socket */
  netns?: string;
  /** pad frames shorter than 60 bytes with zeros (default true) */
  pad?: boolean;
  /** the native layer (tests) */
  binding?: NativeBinding;
}

/** Send one frame on an open handle; returns the bytes written. */
export function sendOn(handle: NativeHandle, frame: Uint8Array, pad: boolean): number {
  // closed is checked by the addon (ECLOSED): one boundary crossing per frame
  return handle.inject(checkFrame(frame), pad);
}

/** Send frames on an open handle in one call (sendmmsg); on a failure part-way the
 *  PcapError carries `sent`. */
export function sendBatchOn(handle: NativeHandle, frames: readonly Uint8Array[], pad: boolean): number {
  if (!Array.isArray(frames)) throw new PcapError('frames must be an array', 'EINVAL');
  for (let i = 0; i < frames.length; i++) checkFrame(frames[i], i);
  if (frames.length === 0) {
    if (handle.closed) throw new PcapError('injector is closed', 'ECLOSED');
    return 0;
  }
  return handle.injectBatch(frames, pad);
}

export class Injector {
  readonly iface: string;
  readonly netns: string | undefined;
  readonly pad: boolean;
  #handle: NativeHandle;

  /** Use openInjector(); this wraps a handle whose open() has resolved. */
  constructor(handle: NativeHandle, iface: string, opts: InjectOptions) {
    this.#handle = handle;
    this.iface = iface;
    this.netns = opts.netns;
    this.pad = opts.pad ?? true;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Send one frame; returns the bytes written. */
  send(frame: Uint8Array): number {
    return sendOn(this.#handle, frame, this.pad);
  }

  /** Send frames in one call (sendmmsg); returns how many were sent. On a failure
   *  part-way the PcapError carries `sent`. */
  sendBatch(frames: readonly Uint8Array[]): number {
    return sendBatchOn(this.#handle, frames, this.pad);
  }

  /** Idempotent; resolves once the kernel released the socket (nobody needs to wait). */
  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** Open a send-only handle: resolves once it is active. Rejects with PcapError. */
export async function openInjector(iface: string, opts: InjectOptions = {}): Promise<Injector> {
  const name = checkIface(iface);
  const ns = netnsPath(opts.netns);
  const handle = new (opts.binding ?? loadBinding()).Handle();
  await handle.open({
    iface: name,
    snaplen: 64,
    promisc: false,
    immediate: true,
    bufferSize: 65536,
    nano: false,
    injectOnly: true,
    ...(ns === undefined ? {} : { netnsPath: ns }),
  });
  return new Injector(handle, name, opts);
}

/** Open, send one frame or a batch, close (the release is not waited for). Returns frames sent. */
export async function inject(iface: string, frames: Uint8Array | readonly Uint8Array[], opts: InjectOptions = {}): Promise<number> {
  const inj = await openInjector(iface, opts);
  try {
    if (frames instanceof Uint8Array) {
      inj.send(frames);
      return 1;
    }
    return inj.sendBatch(frames);
  } finally {
    void inj.close();
  }
}
