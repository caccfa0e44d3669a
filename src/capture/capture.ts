/**
 * Capture: a live libpcap handle as an async iterator of frames.
 *
 * openCapture() resolves once the handle is active (filter set, ring allocated), so a
 * caller can arm captures first and trigger traffic after. The socket is made on a
 * thread of the addon's (the kernel waits an RCU grace period for each ring): open many
 * at once with Promise.all and they cost about one such wait, not one each.
 * Frames arrive in batches on the loop thread (uv_poll in the addon) and wait in a
 * bounded queue until read with `for await`, nextBatch() or take(). A capture can also
 * send through its own socket (send/sendBatch); it never sees frames it sent itself.
 * An idle capture does not keep the process alive unless `keepAlive`.
 */
import { loadBinding } from './binding.js';
import { PcapError } from './errors.js';
import { buildFilter, type FilterCond } from './filter.js';
import type { NativeBinding, NativeDirection, NativeHandle, NativeOpenOptions, NativeOpenResult } from './native.js';
import { checkIface, checkInt, netnsPath } from './options.js';
import { sendBatchOn, sendOn } from './inject.js';

export type Direction = NativeDirection;

export interface CaptureOptions {
  iface: string;
  /** namespace name (/run/netns/NAME) or absolute path; entered only to create the socket */
  netns?: string;
  /** BPF text (trusted operator input) or structured conditions (built VLAN-aware) */
  filter?: string | FilterCond;
  /** bytes kept per frame (default 1600: in immediate mode the ring has fixed slots sized by it) */
  snaplen?: number;
  /** default true */
  promisc?: boolean;
  /** deliver each frame at once (default true); false = batch by the 100 ms buffer timeout */
  immediate?: boolean;
  /** with immediate: false, the longest a frame waits in the kernel ring (ms, default 10) */
  bufferTimeoutMs?: number;
  /** kernel ring size in bytes (default 32 MiB) */
  bufferSize?: number;
  /** which frames: 'in' (received), 'out' (sent), 'inout' (default) */
  direction?: Direction;
  /** keep the event loop alive while this capture is open (default false) */
  keepAlive?: boolean;
  /** frames held in JS before new ones are dropped (counted in stats().queueDrop); default 200000 */
  maxQueue?: number;
}

export interface CapturedFrame {
  /** capture time, ns since the epoch */
  tsNs: bigint;
  /** bytes captured (≤ snaplen) */
  caplen: number;
  /** length on the wire */
  len: number;
  bytes: Buffer;
  /** set when the capture was opened with direction 'in' or 'out' */
  direction?: 'in' | 'out';
}

export interface CaptureStats {
  /** frames the kernel passed the filter */
  recv: number;
  /** dropped because the ring was full */
  drop: number;
  /** dropped by the interface (driver) */
  ifdrop: number;
  /** dropped because the JS queue was full (nobody reading) */
  queueDrop: number;
  /** frames delivered to JS */
  delivered: number;
}

export interface CaptureDeps {
  /** the native layer (default: the addon); tests pass a fake */
  binding?: NativeBinding;
}

export const DEFAULT_SNAPLEN = 1600;
/**
 * 32 MiB. In immediate mode the ring has fixed slots of ~snaplen, so at snaplen 1600
 * this is ~20k slots: the room a capture needs while its process waits for a CPU.
 * Measured here (npm run bench -- capture, 2 shared and loaded cores, 200k 64-byte
 * frames at the injector's full rate): 4 MiB lost a median ~55k, 16 MiB ~8k, 32 MiB 0.
 * Opening costs the same; the memory is held only while the capture is open.
 */
export const DEFAULT_BUFFER_SIZE = 32 * 1024 * 1024;
const DEFAULT_MAX_QUEUE = 200_000;

type Waiter = { resolve: (frames: CapturedFrame[]) => void; reject: (err: unknown) => void; cleanup: () => void };

export class Capture implements AsyncIterable<CapturedFrame> {
  readonly iface: string;
  readonly netns: string | undefined;
  /** DLT_* of the interface (1 = Ethernet) */
  readonly linkType: number;
  readonly linkTypeName: string;
  /** pcap_activate's warning, when it returned one (not an error) */
  readonly warning: string | undefined;
  /** 'nano' unless the kernel refused nanosecond timestamps */
  readonly tsPrecision: 'nano' | 'micro';
  /** the BPF text in force (undefined = everything) */
  readonly filter: string | undefined;
  readonly snaplen: number;

  #handle: NativeHandle;
  #queue: CapturedFrame[] = [];
  #waiters: Waiter[] = [];
  #error: unknown;
  #closed = false;
  #maxQueue: number;
  #direction: 'in' | 'out' | undefined;
  #queueDrop = 0;
  #delivered = 0;
  #finalStats: CaptureStats | undefined;
  #closing: Promise<void> | undefined;

  /** Use openCapture(); this wraps a handle whose open() has resolved. */
  constructor(handle: NativeHandle, res: NativeOpenResult, o: ResolvedOptions) {
    this.#handle = handle;
    this.#maxQueue = o.maxQueue;
    this.iface = o.native.iface;
    this.netns = o.netns;
    this.linkType = res.linkType;
    this.linkTypeName = res.linkTypeName;
    this.warning = res.warning;
    this.tsPrecision = res.tstampPrecision === 1 ? 'nano' : 'micro';
    this.filter = o.native.filter;
    this.snaplen = o.native.snaplen;
    this.#direction = o.native.direction === 'inout' ? undefined : o.native.direction;
    try {
      handle.start(
        (batch, count) => this.#onBatch(batch, count),
        (err) => this.#onError(err),
      );
      if (o.keepAlive) handle.ref();
      else handle.unref();
    } catch (err) {
      void handle.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** frames waiting to be read */
  get pending(): number {
    return this.#queue.length;
  }

  #onBatch(batch: Buffer, count: number): void {
    let off = 0;
    const dir = this.#direction;
    for (let i = 0; i < count; i++) {
      const tsNs = batch.readBigUInt64LE(off);
      const caplen = batch.readUInt32LE(off + 8);
      const len = batch.readUInt32LE(off + 12);
      const bytes = batch.subarray(off + 16, off + 16 + caplen);
      off += 16 + caplen;
      if (this.#queue.length >= this.#maxQueue) {
        this.#queueDrop += count - i;
        break;
      }
      const f: CapturedFrame = dir === undefined ? { tsNs, caplen, len, bytes } : { tsNs, caplen, len, bytes, direction: dir };
      this.#queue.push(f);
      this.#delivered++;
    }
    this.#wake();
  }

  #onError(err: Error): void {
    this.#error = err;
    void this.close();
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      if (this.#queue.length > 0) {
        const w = this.#waiters.shift()!;
        w.cleanup();
        w.resolve(this.take());
      } else if (this.#closed) {
        const w = this.#waiters.shift()!;
        w.cleanup();
        if (this.#error !== undefined) w.reject(this.#error);
        else w.resolve([]);
      } else {
        return;
      }
    }
  }

  /** All frames queued now (possibly none), synchronously. */
  take(): CapturedFrame[] {
    const q = this.#queue;
    this.#queue = [];
    return q;
  }

  /**
   * The next batch: resolves with ≥ 1 frame as soon as any are queued, or with []
   * when the capture is closed or `signal` aborts. Rejects with the capture's error
   * (e.g. ENETDOWN when the interface went down) once the queue is drained.
   */
  nextBatch(opts: { signal?: AbortSignal } = {}): Promise<CapturedFrame[]> {
    if (this.#queue.length > 0) return Promise.resolve(this.take());
    if (this.#closed) return this.#error !== undefined ? Promise.reject(this.#error) : Promise.resolve([]);
    if (opts.signal?.aborted) return Promise.resolve([]);
    return new Promise<CapturedFrame[]>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve([]);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Replace the BPF filter (throws EFILTER and keeps the old one on a bad filter). */
  setFilter(filter: string | FilterCond): void {
    if (this.#closed) throw new PcapError('capture is closed', 'ECLOSED');
    const text = typeof filter === 'string' ? filter : buildFilter(filter);
    this.#handle.setFilter(text);
  }

  stats(): CaptureStats {
    if (this.#finalStats) return { ...this.#finalStats };
    const s = this.#handle.stats();
    return { recv: s.recv, drop: s.drop, ifdrop: s.ifdrop, queueDrop: this.#queueDrop, delivered: this.#delivered };
  }

  /** Keep / stop keeping the event loop alive. */
  ref(): void {
    if (!this.#closed) this.#handle.ref();
  }

  unref(): void {
    if (!this.#closed) this.#handle.unref();
  }

  /** Send one frame through this capture's socket (padded to 60 bytes unless pad is false). */
  send(frame: Uint8Array, pad = true): number {
    return sendOn(this.#handle, frame, pad);
  }

  /** Send frames in one call (sendmmsg); returns how many were sent. */
  sendBatch(frames: readonly Uint8Array[], pad = true): number {
    return sendBatchOn(this.#handle, frames, pad);
  }

  /**
   * Idempotent; safe from inside a frame handler. Delivery stops at once and queued
   * frames stay readable; the kernel releases the socket on a thread of the addon's
   * (an RCU grace period): the promise resolves when it has. Nobody needs to wait for it.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closing ?? Promise.resolve();
    try {
      const s = this.#handle.stats();
      this.#finalStats = { recv: s.recv, drop: s.drop, ifdrop: s.ifdrop, queueDrop: this.#queueDrop, delivered: this.#delivered };
    } catch {
      this.#finalStats = { recv: 0, drop: 0, ifdrop: 0, queueDrop: this.#queueDrop, delivered: this.#delivered };
    }
    this.#closed = true;
    this.#closing = this.#handle.close();
    this.#wake();
    return this.#closing;
  }

  async *frames(): AsyncGenerator<CapturedFrame, void, undefined> {
    try {
      for (;;) {
        const batch = await this.nextBatch();
        if (batch.length === 0) return;
        for (const f of batch) yield f;
      }
    } finally {
      void this.close();
    }
  }

  /** `for await (const f of capture)`; leaving the loop closes the capture. */
  [Symbol.asyncIterator](): AsyncIterator<CapturedFrame> {
    return this.frames();
  }
}

interface ResolvedOptions {
  native: NativeOpenOptions & { direction: Direction; filter?: string };
  netns: string | undefined;
  maxQueue: number;
  keepAlive: boolean;
}

/** Validate everything before anything is opened (PcapError EINVAL). */
function resolveOptions(opts: CaptureOptions): ResolvedOptions {
  const iface = checkIface(opts.iface);
  const snaplen = checkInt('snaplen', opts.snaplen ?? DEFAULT_SNAPLEN, 64, 262144);
  const bufferSize = checkInt('bufferSize', opts.bufferSize ?? DEFAULT_BUFFER_SIZE, 65536, 1 << 30);
  const maxQueue = checkInt('maxQueue', opts.maxQueue ?? DEFAULT_MAX_QUEUE, 1, 1e8);
  const direction = opts.direction ?? 'inout';
  if (!['in', 'out', 'inout'].includes(direction)) throw new PcapError(`direction must be in, out or inout`, 'EINVAL');
  const filter = opts.filter === undefined ? undefined : typeof opts.filter === 'string' ? opts.filter : buildFilter(opts.filter);
  if (filter !== undefined && (filter.includes('\0') || filter.length > 64 * 1024)) throw new PcapError('filter text is not usable', 'EINVAL');
  const nsPath = netnsPath(opts.netns);
  return {
    native: {
      iface,
      snaplen,
      promisc: opts.promisc ?? true,
      immediate: opts.immediate ?? true,
      bufferSize,
      nano: true,
      timeoutMs: checkInt('bufferTimeoutMs', opts.bufferTimeoutMs ?? 10, 1, 60_000),
      direction,
      ...(nsPath === undefined ? {} : { netnsPath: nsPath }),
      ...(filter === undefined ? {} : { filter }),
    },
    netns: opts.netns,
    maxQueue,
    keepAlive: opts.keepAlive === true,
  };
}

/**
 * Open a live capture: resolves once the handle is active (arm it, then trigger
 * traffic). Rejects with PcapError: EINVAL for bad options (nothing opened), ENODEV,
 * ENETDOWN, EPERM, EFILTER, ENOENT (no such namespace) from the open.
 */
export async function openCapture(opts: CaptureOptions, deps: CaptureDeps = {}): Promise<Capture> {
  const o = resolveOptions(opts);
  const binding = deps.binding ?? loadBinding();
  const handle = new binding.Handle();
  const res = await handle.open(o.native);
  return new Capture(handle, res, o);
}
