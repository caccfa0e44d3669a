/**
 * Generic packet I/O over RPC, for every probe to reuse: arm a capture on an agent,
 * collect what it saw (returning early as soon as enough is in), stop it; inject
 * raw frames. Bytes travel as lowercase hex, timestamps as decimal ns strings.
 *
 * Flow used by the cross-node checks (src/capture/remote.ts does it for N agents):
 *   capture.start on every capture point → {id} (the pcap handle is active)
 *   packet.inject / a DHCP exchange on the sender
 *   capture.collect {id, waitMs, minFrames | stopWhen, close: true} on every point
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import type { FilterCond } from '../../src/capture/filter.js';

const hexBytes = z.string().regex(/^(?:[0-9a-f]{2})+$/i, 'lowercase hex bytes');
const ifName = z.string().min(1).max(15);
const netns = z.string().min(1).max(255);

/** Structured filter conditions (src/capture/filter.ts), validated again by buildFilter. */
export const filterCondSchema: z.ZodType<FilterCond> = z.lazy(() =>
  z
    .object({
      etherType: z.number().int().min(0x600).max(0xffff).optional(),
      srcMac: z.string().max(32).optional(),
      dstMac: z.string().max(32).optional(),
      mac: z.string().max(32).optional(),
      ip: z.string().max(32).optional(),
      srcIp: z.string().max(32).optional(),
      dstIp: z.string().max(32).optional(),
      ipProto: z.union([z.enum(['udp', 'tcp', 'icmp']), z.number().int().min(0).max(255)]).optional(),
      udpPort: z.number().int().min(1).max(65535).optional(),
      srcUdpPort: z.number().int().min(1).max(65535).optional(),
      dstUdpPort: z.number().int().min(1).max(65535).optional(),
      arp: z.boolean().optional(),
      vlan: z.union([z.number().int().min(0).max(4094), z.array(z.number().int().min(0).max(4094)).min(1).max(2)]).optional(),
      tagged: z.boolean().optional(),
      probeId: z.string().regex(/^[0-9a-f]{16}$/i).optional(),
      dhcpXid: z.number().int().min(0).max(0xffffffff).optional(),
      and: z.array(filterCondSchema).min(1).max(32).optional(),
      or: z.array(filterCondSchema).min(1).max(32).optional(),
      not: filterCondSchema.optional(),
    })
    .strict(),
);

/** Stop collecting once a frame matching this arrives (besides minFrames). */
export const stopWhenSchema = z
  .object({
    /** a steth probe with this id (EtherType 0x88B5 or UDP 5899) */
    probeId: z.string().regex(/^[0-9a-f]{16}$/i).optional(),
    /** a DHCP message with this xid (any type unless dhcpMessageType is given) */
    dhcpXid: z.number().int().min(0).max(0xffffffff).optional(),
    /** with dhcpXid: only this DHCP message type (2 = OFFER, 5 = ACK, 6 = NAK) */
    dhcpMessageType: z.number().int().min(1).max(255).optional(),
    /** with probeId: at least this many probe frames of that id */
    count: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();
export type StopWhen = z.infer<typeof stopWhenSchema>;

export const capturedFrameSchema = z.object({
  /** capture time, ns since the epoch (decimal) */
  tsNs: z.string().regex(/^\d+$/),
  /** length on the wire (bytes may be shorter: snaplen) */
  len: z.number().int().nonnegative(),
  bytes: hexBytes.or(z.literal('')),
  direction: z.enum(['in', 'out']).optional(),
});
export type WireFrame = z.infer<typeof capturedFrameSchema>;

export const captureStatsSchema = z.object({
  recv: z.number(),
  drop: z.number(),
  ifdrop: z.number(),
  /** frames dropped because more than maxFrames were waiting */
  queueDrop: z.number(),
  delivered: z.number(),
});

export const captureStart = declare(
  'capture.start',
  z
    .object({
      iface: ifName,
      /** namespace name (e.g. qdhcp-NETID) */
      netns: netns.optional(),
      filter: z.union([filterCondSchema, z.string().max(8192)]).optional(),
      snaplen: z.number().int().min(64).max(262144).optional(),
      /** kernel ring bytes (default 32 MiB) */
      bufferSize: z.number().int().min(65536).max(256 * 1024 * 1024).optional(),
      direction: z.enum(['in', 'out', 'inout']).optional(),
      /** frames kept on the agent until collected (default 10000; more are counted in queueDrop) */
      maxFrames: z.number().int().min(1).max(1_000_000).optional(),
      /** lease: the capture is closed after this long without a collect (default 60 s) */
      ttlMs: z.number().int().min(100).max(3_600_000).optional(),
    })
    .strict(),
  z.object({
    id: z.string(),
    linkType: z.number().int(),
    /** pcap_activate's warning, if any */
    warning: z.string().optional(),
    /** the BPF text in force */
    filter: z.string().optional(),
  }),
  'Open a capture on an interface (optionally inside a namespace); returns once the handle is active',
  10_000,
);

export const captureCollect = declare(
  'capture.collect',
  z
    .object({
      id: z.string().min(1).max(64),
      /** wait at most this long for minFrames / stopWhen (0 = return what is there) */
      waitMs: z.number().int().min(0).max(600_000),
      /** return as soon as this many frames are in (default: wait the whole waitMs unless stopWhen) */
      minFrames: z.number().int().min(1).max(1_000_000).optional(),
      stopWhen: stopWhenSchema.optional(),
      /** close the capture after collecting (default false) */
      close: z.boolean().optional(),
      /** return at most this many frames (default all; the rest stay queued) */
      maxFrames: z.number().int().min(1).max(1_000_000).optional(),
    })
    .strict(),
  z.object({
    frames: z.array(capturedFrameSchema),
    stats: captureStatsSchema,
    closed: z.boolean(),
    /** why collect returned: enough frames, stopWhen matched, deadline, or the capture was closed */
    reason: z.enum(['minFrames', 'stopWhen', 'deadline', 'closed']),
    linkType: z.number().int(),
  }),
  'Frames captured so far; returns early once minFrames (or stopWhen) are in',
  620_000,
);

export const captureStop = declare(
  'capture.stop',
  z.object({ id: z.string().min(1).max(64) }).strict(),
  z.object({ stopped: z.boolean(), stats: captureStatsSchema.optional() }),
  'Close a capture (idempotent: an unknown or closed id gives stopped: false)',
  5_000,
);

export const packetInject = declare(
  'packet.inject',
  z
    .object({
      iface: ifName,
      netns: netns.optional(),
      frames: z.array(hexBytes).min(1).max(100_000),
      /** pause between frames in µs (default 0: one batch) */
      intervalUs: z.number().int().min(0).max(10_000_000).optional(),
      /** pad frames under 60 bytes (default true) */
      pad: z.boolean().optional(),
    })
    .strict(),
  z.object({
    sent: z.number().int(),
    /** wall clock (ns since the epoch, decimal) just before the first and after the last frame */
    firstTsNs: z.string(),
    lastTsNs: z.string(),
  }),
  'Send raw Ethernet frames on an interface (optionally inside a namespace)',
  60_000,
);

export const captureMethodSpecs = [captureStart, captureCollect, captureStop, packetInject] as const;
