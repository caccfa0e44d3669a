/**
 * CLI side of the generic packet I/O methods: arm captures on several agents (all
 * at once; each returns when its pcap handle is active), trigger something, then
 * collect them all concurrently — each returns early when its expected frames are
 * in. Per-point failures are recorded, not thrown, so one dead agent does not hide
 * what the others saw. `withCaptures` guarantees the captures are stopped.
 *
 *   const armed = await armCaptures([{ label: 'qvo', client, iface: 'qvoX', filter: { dhcpXid } }, …]);
 *   await client.call(packetInject, …);
 *   const seen = await collectAll(armed, { waitMs: 3000, stopWhen: { dhcpXid, dhcpMessageType: 2 } });
 */
import type { z } from 'zod';
import type { MethodSpec } from '../rpc/method.js';
import type { FilterCond } from './filter.js';
import type { CapturedFrame, CaptureStats, Direction } from './capture.js';
import { captureCollect, captureStart, captureStop, type StopWhen, type WireFrame } from '../../probes/capture/contract.js';

/** What remote.ts needs from an agent client (src/rpc/client.ts AgentClient fits). */
export interface CaptureClient {
  readonly name: string;
  call<P extends z.ZodTypeAny, R extends z.ZodTypeAny>(spec: MethodSpec<P, R>, params: z.input<P>, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<z.output<R>>;
}

export interface CapturePoint {
  /** what this point is in the report (e.g. 'qvo on compute-1') */
  label: string;
  client: CaptureClient;
  iface: string;
  netns?: string;
  filter?: FilterCond | string;
  snaplen?: number;
  direction?: Direction;
  maxFrames?: number;
  ttlMs?: number;
  /** per-point overrides of collectAll's minFrames / stopWhen */
  minFrames?: number;
  stopWhen?: StopWhen;
}

export interface ArmedCapture {
  point: CapturePoint;
  /** capture id on the agent (absent when arming failed) */
  id?: string;
  linkType?: number;
  warning?: string;
  error?: unknown;
}

export interface CollectedCapture {
  point: CapturePoint;
  frames: CapturedFrame[];
  stats?: CaptureStats;
  reason?: 'minFrames' | 'stopWhen' | 'deadline' | 'closed';
  linkType?: number;
  /** arming or collecting failed */
  error?: unknown;
}

export interface CollectOptions {
  waitMs: number;
  minFrames?: number;
  stopWhen?: StopWhen;
  /** close each capture after collecting (default true) */
  close?: boolean;
  signal?: AbortSignal;
}

/** Frames as they come over the wire → the local CapturedFrame shape. */
export function fromWire(f: WireFrame): CapturedFrame {
  const bytes = Buffer.from(f.bytes, 'hex');
  const out: CapturedFrame = { tsNs: BigInt(f.tsNs), caplen: bytes.length, len: f.len, bytes };
  if (f.direction !== undefined) out.direction = f.direction;
  return out;
}

/** Start every capture concurrently; resolves when all are active (or failed). */
export async function armCaptures(points: readonly CapturePoint[], opts: { signal?: AbortSignal } = {}): Promise<ArmedCapture[]> {
  return await Promise.all(
    points.map(async (point): Promise<ArmedCapture> => {
      try {
        const r = await point.client.call(
          captureStart,
          {
            iface: point.iface,
            ...(point.netns === undefined ? {} : { netns: point.netns }),
            ...(point.filter === undefined ? {} : { filter: point.filter }),
            ...(point.snaplen === undefined ? {} : { snaplen: point.snaplen }),
            ...(point.direction === undefined ? {} : { direction: point.direction }),
            ...(point.maxFrames === undefined ? {} : { maxFrames: point.maxFrames }),
            ...(point.ttlMs === undefined ? {} : { ttlMs: point.ttlMs }),
          },
          opts.signal ? { signal: opts.signal } : {},
        );
        const a: ArmedCapture = { point, id: r.id, linkType: r.linkType };
        if (r.warning !== undefined) a.warning = r.warning;
        return a;
      } catch (error) {
        return { point, error };
      }
    }),
  );
}

/** Collect every armed capture concurrently (each returns early on its own). */
export async function collectAll(armed: readonly ArmedCapture[], opts: CollectOptions): Promise<CollectedCapture[]> {
  return await Promise.all(
    armed.map(async (a): Promise<CollectedCapture> => {
      if (a.id === undefined) return { point: a.point, frames: [], error: a.error };
      const minFrames = a.point.minFrames ?? opts.minFrames;
      const stopWhen = a.point.stopWhen ?? opts.stopWhen;
      try {
        const r = await a.point.client.call(
          captureCollect,
          {
            id: a.id,
            waitMs: opts.waitMs,
            ...(minFrames === undefined ? {} : { minFrames }),
            ...(stopWhen === undefined ? {} : { stopWhen }),
            close: opts.close ?? true,
          },
          { timeoutMs: opts.waitMs + 10_000, ...(opts.signal ? { signal: opts.signal } : {}) },
        );
        return { point: a.point, frames: r.frames.map(fromWire), stats: r.stats, reason: r.reason, linkType: r.linkType };
      } catch (error) {
        return { point: a.point, frames: [], error };
      }
    }),
  );
}

/** Best-effort stop of every armed capture (errors ignored: the agent's lease reaps them anyway). */
export async function stopAll(armed: readonly ArmedCapture[]): Promise<void> {
  await Promise.all(
    armed.map(async (a) => {
      if (a.id === undefined) return;
      try {
        await a.point.client.call(captureStop, { id: a.id }, { timeoutMs: 5_000 });
      } catch {
        // lease expiry closes it
      }
    }),
  );
}

/**
 * Arm, run `trigger`, collect; captures are stopped on every path (trigger throwing,
 * a collect failing, the signal firing).
 */
export async function withCaptures<T>(
  points: readonly CapturePoint[],
  trigger: (armed: readonly ArmedCapture[]) => Promise<T>,
  opts: CollectOptions,
): Promise<{ triggered: T; captures: CollectedCapture[] }> {
  const armed = await armCaptures(points, opts.signal ? { signal: opts.signal } : {});
  try {
    const triggered = await trigger(armed);
    const captures = await collectAll(armed, opts);
    return { triggered, captures };
  } finally {
    await stopAll(armed);
  }
}
