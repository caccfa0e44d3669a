/**
 * Injecting raw Ethernet frames. An Injector is a pcap handle opened for sending
 * only: a minimal ring and a kernel filter that accepts nothing, so it never copies
 * traffic it does not read. Frames under 60 bytes are padded with zeros unless
 * `pad: false` (the kernel does not pad on veth). Batches go out with sendmmsg.
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

export class Injector {
  readonly iface: string;
  readonly netns: string | undefined;
  readonly pad: boolean;
  #handle: NativeHandle;

  constructor(iface: string, opts: InjectOptions = {}) {
    this.iface = checkIface(iface);
    this.netns = opts.netns;
    this.pad = opts.pad ?? true;
    const ns = netnsPath(opts.netns);
    const handle = new (opts.binding ?? loadBinding()).Handle();
    handle.open({
      iface: this.iface,
      snaplen: 64,
      promisc: false,
      immediate: true,
      bufferSize: 65536,
      nano: false,
      injectOnly: true,
      ...(ns === undefined ? {} : { netnsPath: ns }),
    });
    this.#handle = handle;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Send one frame; returns the bytes written. */
  send(frame: Uint8Array): number {
    // closed is checked by the addon (ECLOSED): one boundary crossing per frame
    return this.#handle.inject(checkFrame(frame), this.pad);
  }

  /** Send frames in one call (sendmmsg); returns how many were sent. On a failure
   *  part-way the PcapError carries `sent`. */
  sendBatch(frames: readonly Uint8Array[]): number {
    if (!Array.isArray(frames)) throw new PcapError('frames must be an array', 'EINVAL');
    for (let i = 0; i < frames.length; i++) checkFrame(frames[i], i);
    if (frames.length === 0) {
      if (this.#handle.closed) throw new PcapError('injector is closed', 'ECLOSED');
      return 0;
    }
    return this.#handle.injectBatch(frames, this.pad);
  }

  /** Idempotent. */
  close(): void {
    this.#handle.close();
  }
}

export function openInjector(iface: string, opts: InjectOptions = {}): Injector {
  return new Injector(iface, opts);
}

/** Open, send one frame or a batch, close. Returns frames sent. */
export function inject(iface: string, frames: Uint8Array | readonly Uint8Array[], opts: InjectOptions = {}): number {
  const inj = new Injector(iface, opts);
  try {
    if (frames instanceof Uint8Array) {
      inj.send(frames);
      return 1;
    }
    return inj.sendBatch(frames);
  } finally {
    inj.close();
  }
}
