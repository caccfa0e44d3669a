/**
 * The raw surface of the libpcap addon (native/pcap_addon.cc), declared once.
 * Nothing here has policy: the addon validates types only; names, defaults and
 * padding rules are decided in JS (capture.ts, inject.ts) before a call crosses.
 * Tests substitute a fake object of this shape (see test/unit/capture/fake.ts).
 */

/** pcap_set_direction values. */
export type NativeDirection = 'in' | 'out' | 'inout';

export interface NativeOpenOptions {
  iface: string;
  /** path of a network namespace file (/run/netns/NAME, /proc/PID/ns/net); entered only around pcap_activate */
  netnsPath?: string;
  snaplen: number;
  promisc: boolean;
  immediate: boolean;
  /** ring size in bytes (pcap_set_buffer_size) */
  bufferSize: number;
  /** pcap_set_timeout: how long the kernel holds a ring block when not immediate (ms) */
  timeoutMs?: number;
  /** ask for nanosecond timestamps (falls back to micro if refused) */
  nano: boolean;
  direction?: NativeDirection;
  /** BPF text; compiled after activate with PCAP_NETMASK_UNKNOWN */
  filter?: string;
  /** run libpcap's optimizer on the filter (default true) */
  optimize?: boolean;
  /** inject-only handle: minimal ring, a kernel filter that accepts nothing */
  injectOnly?: boolean;
}

export interface NativeOpenResult {
  /** DLT_* (1 = Ethernet) */
  linkType: number;
  linkTypeName: string;
  /** pcap_activate returned > 0: its status text and libpcap's message */
  warning?: string;
  /** 1 = nanosecond timestamps, 0 = microsecond */
  tstampPrecision: 0 | 1;
  /** the selectable fd (for diagnostics only) */
  fd: number;
}

export interface NativeStats {
  recv: number;
  drop: number;
  ifdrop: number;
}

/**
 * One batch of frames, packed: for each frame a 16-byte little-endian header
 * [tsNs: u64][caplen: u32][len: u32] followed by caplen bytes. `count` frames.
 */
export type NativeBatchCallback = (batch: Buffer, count: number) => void;
export type NativeErrorCallback = (err: Error) => void;

export interface NativeHandle {
  /**
   * pcap_create → set options → activate (inside netnsPath) → nonblock → filter, on a
   * short-lived thread of its own (creating the ring waits for an RCU grace period in the
   * kernel). Resolves once the handle is active; rejects with PcapError. Argument errors
   * throw synchronously.
   */
  open(opts: NativeOpenOptions): Promise<NativeOpenResult>;
  /** replace the BPF filter; throws PcapError EFILTER and keeps the old one */
  setFilter(filter: string, optimize?: boolean): void;
  /** start uv_poll on the selectable fd; batches arrive on the loop thread */
  start(onBatch: NativeBatchCallback, onError: NativeErrorCallback): void;
  /** send one frame (padded to 60 bytes when pad); returns bytes written */
  inject(frame: Uint8Array, pad: boolean): number;
  /** send frames with sendmmsg; returns frames sent (throws PcapError with `sent` on a mid-batch failure) */
  injectBatch(frames: readonly Uint8Array[], pad: boolean): number;
  stats(): NativeStats;
  /** uv_ref / uv_unref of the poll handle */
  ref(): void;
  unref(): void;
  /**
   * Stops delivery at once (inside the batch callback: once it returns) and releases the
   * socket on a thread; the promise (the same one on every call) resolves when the kernel
   * has let go of it. Never rejects.
   */
  close(): Promise<void>;
  readonly closed: boolean;
}

export interface NativeBinding {
  /** the JS error class the addon throws (constructor(message, code, pcapStatus?)) */
  setErrorClass(cls: new (message: string, code: string, pcapStatus?: number) => Error): void;
  Handle: new () => NativeHandle;
  /** pcap_lib_version() */
  libVersion(): string;
}
