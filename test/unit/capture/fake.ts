/**
 * A fake of the addon's raw surface (src/capture/native.ts) for pure-logic tests:
 * records what was opened, lets a test push frames and errors the way the addon's
 * uv_poll callback would, and fails like the addon does (PcapError from the class
 * it was given).
 */
import type { NativeBatchCallback, NativeBinding, NativeErrorCallback, NativeHandle, NativeOpenOptions, NativeOpenResult, NativeStats } from '../../../src/capture/native.js';

type ErrCtor = new (message: string, code: string, pcapStatus?: number) => Error;

export class FakeHandle implements NativeHandle {
  opts: NativeOpenOptions | undefined;
  onBatch: NativeBatchCallback | undefined;
  onError: NativeErrorCallback | undefined;
  refd = false;
  closeCalls = 0;
  sent: Buffer[] = [];
  filters: string[] = [];
  #closed = false;
  #dispatching = false;
  #closeRequested = false;
  stat: NativeStats = { recv: 0, drop: 0, ifdrop: 0 };

  constructor(private readonly binding: FakeBinding) {
    binding.handles.push(this);
  }

  get closed(): boolean {
    return this.#closed || this.#closeRequested;
  }

  /** Like the addon: resolves once "active", rejects with the error class (never throws for a failed open). */
  open(opts: NativeOpenOptions): Promise<NativeOpenResult> {
    this.opts = opts;
    const fail = this.binding.failOpen;
    if (fail) return Promise.reject(new this.binding.errorClass!(fail.message, fail.code, fail.status));
    if (opts.filter !== undefined) this.filters.push(opts.filter);
    return Promise.resolve({ linkType: 1, linkTypeName: 'EN10MB', tstampPrecision: 1, fd: 99, ...(this.binding.warning ? { warning: this.binding.warning } : {}) });
  }

  setFilter(filter: string): void {
    this.#check();
    if (filter.includes('banana')) throw new this.binding.errorClass!('bad filter: syntax error', 'EFILTER');
    this.filters.push(filter);
  }

  start(onBatch: NativeBatchCallback, onError: NativeErrorCallback): void {
    this.#check();
    this.onBatch = onBatch;
    this.onError = onError;
  }

  inject(frame: Uint8Array, pad: boolean): number {
    this.#check();
    const b = Buffer.from(frame);
    const out = pad && b.length < 60 ? Buffer.concat([b, Buffer.alloc(60 - b.length)]) : b;
    this.sent.push(out);
    return out.length;
  }

  injectBatch(frames: readonly Uint8Array[], pad: boolean): number {
    for (const f of frames) this.inject(f, pad);
    return frames.length;
  }

  stats(): NativeStats {
    this.#check();
    return { ...this.stat };
  }

  ref(): void {
    this.refd = true;
  }

  unref(): void {
    this.refd = false;
  }

  close(): Promise<void> {
    this.closeCalls++;
    if (this.#dispatching) this.#closeRequested = true;
    else this.#closed = true;
    return Promise.resolve();
  }

  /** Deliver frames as one packed batch, like the addon's poll callback. */
  deliver(frames: Array<{ tsNs: bigint; bytes: Buffer; len?: number }>): void {
    if (!this.onBatch || this.#closed) throw new Error('not started or closed');
    const parts: Buffer[] = [];
    for (const f of frames) {
      const h = Buffer.alloc(16);
      h.writeBigUInt64LE(f.tsNs, 0);
      h.writeUInt32LE(f.bytes.length, 8);
      h.writeUInt32LE(f.len ?? f.bytes.length, 12);
      parts.push(h, f.bytes);
    }
    this.#dispatching = true;
    try {
      this.onBatch(Buffer.concat(parts), frames.length);
    } finally {
      this.#dispatching = false;
      if (this.#closeRequested) {
        this.#closeRequested = false;
        this.#closed = true;
      }
    }
  }

  fail(message: string, code: string): void {
    this.onError?.(new this.binding.errorClass!(message, code));
  }

  #check(): void {
    if (this.closed) throw new this.binding.errorClass!('pcap handle is closed', 'ECLOSED');
  }
}

export class FakeBinding implements NativeBinding {
  handles: FakeHandle[] = [];
  errorClass: ErrCtor | undefined;
  failOpen: { message: string; code: string; status?: number } | undefined;
  warning: string | undefined;
  readonly Handle: new () => NativeHandle;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.Handle = class extends FakeHandle {
      constructor() {
        super(self);
      }
    };
  }

  setErrorClass(cls: ErrCtor): void {
    this.errorClass = cls;
  }

  libVersion(): string {
    return 'fake libpcap';
  }

  get last(): FakeHandle {
    const h = this.handles[this.handles.length - 1];
    if (!h) throw new Error('no handle opened');
    return h;
  }
}

/** A binding with the PcapError class set, as loadBinding() leaves it. */
export async function fakeBinding(): Promise<FakeBinding> {
  const { PcapError } = await import('../../../src/capture/errors.js');
  const b = new FakeBinding();
  b.setErrorClass(PcapError);
  return b;
}
