/**
 * steth's packet capture and injection (the typed wrapper over native/).
 *
 *   const cap = openCapture({ iface: 'tap0', netns: 'qdhcp-…', filter: { udpPort: 67 } });
 *   for await (const f of cap) { … }            // or cap.nextBatch(), cap.take()
 *   inject('qvb0', frame)                       // or openInjector(…).sendBatch(frames)
 *
 * The addon is loaded on first open, so importing this module (and the codec, and
 * pcap files) works on a machine without libpcap.
 */
export { Capture, openCapture, DEFAULT_BUFFER_SIZE, DEFAULT_SNAPLEN } from './capture.js';
export type { CaptureOptions, CapturedFrame, CaptureStats, CaptureDeps, Direction } from './capture.js';
export { Injector, openInjector, inject } from './inject.js';
export type { InjectOptions } from './inject.js';
export { PcapError } from './errors.js';
export type { PcapErrorCode } from './errors.js';
export { buildFilter, PROBE_ETHERTYPE, PROBE_UDP_PORT } from './filter.js';
export type { FilterCond } from './filter.js';
export { addonAvailable, loadBinding, setBindingForTesting } from './binding.js';
export type { NativeBinding, NativeHandle, NativeOpenOptions, NativeOpenResult, NativeStats } from './native.js';
