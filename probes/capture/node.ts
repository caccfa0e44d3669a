/**
 * Agent side of the generic packet I/O methods (contract.ts): captures live in this
 * process, each held by a ledger lease whose in-process closer closes it, so a CLI
 * that dies never leaves a capture running past its TTL. `collect` waits on the
 * capture itself (no sleeps) and returns as soon as minFrames / stopWhen are met.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { implement, type AgentContext, type MethodImpl } from '../../src/rpc/method.js';
import { openCapture, type Capture, type CapturedFrame, type CaptureStats } from '../../src/capture/capture.js';
import { openInjector } from '../../src/capture/inject.js';
import { PcapError } from '../../src/capture/errors.js';
import type { NativeBinding } from '../../src/capture/native.js';
import { decodeFrame, findLayer, findLayers, dhcpMessageType } from '../../src/packet/index.js';
import { nowNs } from '../../src/packet/builders.js';
import { captureCollect, captureStart, captureStop, packetInject, type StopWhen, type WireFrame } from './contract.js';

export const DEFAULT_TTL_MS = 60_000;
export const DEFAULT_MAX_FRAMES = 10_000;

interface Entry {
  id: string;
  capture: Capture;
  leaseId: string | undefined;
  ttlMs: number;
  /** taken from the capture but not yet returned (collect maxFrames) */
  backlog: CapturedFrame[];
  ctx: AgentContext;
  /** a collect is waiting on this capture */
  busy: boolean;
}

export interface CaptureMethodDeps {
  /** native layer for tests (default: the addon) */
  binding?: NativeBinding;
}

/** Does this frame satisfy stopWhen? (counts probe frames for `count`) */
export function stopMatcher(stop: StopWhen): (f: CapturedFrame) => boolean {
  const want = stop.count ?? 1;
  let seen = 0;
  const pid = stop.probeId?.toLowerCase();
  return (f) => {
    if (pid === undefined && stop.dhcpXid === undefined) return false;
    const { layers } = decodeFrame(f.bytes);
    if (pid !== undefined) {
      const p = findLayer(layers, 'probe');
      if (p && p.probeId === pid) {
        seen++;
        if (seen >= want) return true;
      }
    }
    if (stop.dhcpXid !== undefined) {
      // the innermost DHCP message (VXLAN-encapsulated ones included)
      const all = findLayers(layers, 'dhcp');
      const d = all[all.length - 1];
      if (d && d.xid === stop.dhcpXid && (stop.dhcpMessageType === undefined || dhcpMessageType(d) === stop.dhcpMessageType)) return true;
    }
    return false;
  };
}

export function toWire(f: CapturedFrame): WireFrame {
  const w: WireFrame = { tsNs: f.tsNs.toString(), len: f.len, bytes: f.bytes.toString('hex') };
  if (f.direction !== undefined) w.direction = f.direction;
  return w;
}

export function createCaptureMethods(deps: CaptureMethodDeps = {}): { methods: MethodImpl[]; active: () => number; closeAll: () => void } {
  const entries = new Map<string, Entry>();

  /** Forget and close a capture; the kernel's release of the socket goes on in the
   *  background (the answer does not wait for it). */
  const closeEntry = (id: string): CaptureStats | undefined => {
    const e = entries.get(id);
    if (!e) return undefined;
    entries.delete(id);
    void e.capture.close();
    return e.capture.stats();
  };

  const get = (id: string): Entry => {
    const e = entries.get(id);
    if (!e) throw new PcapError(`no capture ${id.slice(0, 64)} (closed, expired or never started)`, 'ECLOSED');
    return e;
  };

  const start = implement(captureStart, async (p, ctx) => {
    const ttlMs = p.ttlMs ?? DEFAULT_TTL_MS;
    const capture = await openCapture(
      {
        iface: p.iface,
        ...(p.netns === undefined ? {} : { netns: p.netns }),
        ...(p.filter === undefined ? {} : { filter: p.filter }),
        ...(p.snaplen === undefined ? {} : { snaplen: p.snaplen }),
        ...(p.bufferSize === undefined ? {} : { bufferSize: p.bufferSize }),
        ...(p.direction === undefined ? {} : { direction: p.direction }),
        maxQueue: p.maxFrames ?? DEFAULT_MAX_FRAMES,
      },
      deps.binding ? { binding: deps.binding } : {},
    );
    const id = `cap-${randomBytes(6).toString('hex')}`;
    const entry: Entry = { id, capture, leaseId: undefined, ttlMs, backlog: [], ctx, busy: false };
    entries.set(id, entry);
    try {
      entry.leaseId = ctx.ledger.acquire('capture', { type: 'none' }, ttlMs, () => void closeEntry(id), `capture ${p.iface}${p.netns ? ` in ${p.netns}` : ''}`);
    } catch (err) {
      closeEntry(id);
      throw err;
    }
    ctx.log('debug', 'capture started', { id, iface: p.iface, netns: p.netns, filter: capture.filter });
    const out: { id: string; linkType: number; warning?: string; filter?: string } = { id, linkType: capture.linkType };
    if (capture.warning !== undefined) out.warning = capture.warning;
    if (capture.filter !== undefined) out.filter = capture.filter;
    return out;
  });

  const collect = implement(captureCollect, async (p, ctx) => {
    const e = get(p.id);
    if (e.busy) throw new PcapError(`capture ${p.id} is already being collected`, 'EINVAL');
    e.busy = true;
    const cap = e.capture;
    const got: CapturedFrame[] = [];
    const limit = p.maxFrames ?? Number.POSITIVE_INFINITY;
    const match = p.stopWhen ? stopMatcher(p.stopWhen) : undefined;
    let reason: 'minFrames' | 'stopWhen' | 'deadline' | 'closed' | undefined;
    const absorb = (frames: CapturedFrame[]): void => {
      for (const f of frames) {
        if (got.length >= limit) {
          e.backlog.push(f);
          continue;
        }
        got.push(f);
        if (reason === undefined && match?.(f)) reason = 'stopWhen';
      }
      if (reason === undefined && p.minFrames !== undefined && got.length >= p.minFrames) reason = 'minFrames';
      if (reason === undefined && got.length >= limit) reason = 'minFrames';
    };
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(), p.waitMs);
    const signal = AbortSignal.any([timer.signal, ctx.signal]);
    try {
      if (e.leaseId !== undefined && ctx.ledger.has(e.leaseId)) ctx.ledger.renew(e.leaseId, e.ttlMs + p.waitMs);
      absorb(e.backlog.splice(0));
      absorb(cap.take());
      while (reason === undefined) {
        if (cap.closed && cap.pending === 0) {
          reason = 'closed';
          break;
        }
        if (signal.aborted) {
          reason = 'deadline';
          break;
        }
        const batch = await cap.nextBatch({ signal });
        absorb(batch);
      }
    } finally {
      clearTimeout(t);
      e.busy = false;
    }
    const stats = cap.stats();
    let closed = cap.closed;
    if (p.close) {
      if (e.leaseId !== undefined && ctx.ledger.has(e.leaseId)) await ctx.ledger.release(e.leaseId);
      closeEntry(p.id);
      closed = true;
    } else if (cap.closed) {
      // closed underneath us (interface went away): forget it once drained
      if (e.backlog.length === 0) {
        if (e.leaseId !== undefined && ctx.ledger.has(e.leaseId)) await ctx.ledger.release(e.leaseId);
        entries.delete(p.id);
      }
    } else if (e.leaseId !== undefined && ctx.ledger.has(e.leaseId)) {
      ctx.ledger.renew(e.leaseId, e.ttlMs);
    }
    return { frames: got.map(toWire), stats, closed, reason, linkType: cap.linkType };
  });

  const stop = implement(captureStop, async (p, ctx) => {
    const e = entries.get(p.id);
    if (!e) return { stopped: false };
    if (e.leaseId !== undefined && ctx.ledger.has(e.leaseId)) await ctx.ledger.release(e.leaseId);
    const stats = closeEntry(p.id) ?? e.capture.stats();
    return { stopped: true, stats };
  });

  const injectImpl = implement(packetInject, async (p, ctx) => {
    const frames = p.frames.map((h) => Buffer.from(h, 'hex'));
    const inj = await openInjector(p.iface, {
      ...(p.netns === undefined ? {} : { netns: p.netns }),
      ...(p.pad === undefined ? {} : { pad: p.pad }),
      ...(deps.binding ? { binding: deps.binding } : {}),
    });
    try {
      const interval = p.intervalUs ?? 0;
      const first = nowNs();
      let sent = 0;
      if (interval === 0) {
        sent = inj.sendBatch(frames);
      } else {
        for (const f of frames) {
          if (ctx.signal.aborted) break;
          inj.send(f);
          sent++;
          if (sent < frames.length) await sleep(interval / 1000);
        }
      }
      const last = nowNs();
      return { sent, firstTsNs: first.toString(), lastTsNs: last.toString() };
    } finally {
      void inj.close();
    }
  });

  return {
    methods: [start, collect, stop, injectImpl] as unknown as MethodImpl[],
    active: () => entries.size,
    closeAll: () => {
      for (const id of [...entries.keys()]) closeEntry(id);
    },
  };
}

const instance = createCaptureMethods();

/** Registered by agent/methods.ts. */
export const methods: MethodImpl[] = instance.methods;
