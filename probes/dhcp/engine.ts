/**
 * The DHCP check, CLI side: resolve the port on every agent, arm a capture on every hop
 * (returns once each pcap handle is active), have the port's node run the exchange,
 * collect with early completion, correlate. Every capture is closed on every path:
 * collect closes it, failures stop it, and the agent's lease closes it if we die.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import type { AgentEntry } from '../../src/config/types.js';
import type { MethodSpec } from '../../src/rpc/method.js';
import type { z } from 'zod';
import { captureCollect, captureStart, captureStop } from '../capture/contract.js';
import { encodePcap } from '../../src/capture/pcapfile.js';
import { dhcpExchange, dhcpHostEntry, dhcpPortInfo, dhcpServers } from './contract.js';
import type { CapturePoint, DhcpVerdict, ExchangeResult, FrameObs, HopPlan, NetworkType, PointObs, ResolvedPort } from './model.js';
import { dhcpFilter, planHops } from './plan.js';
import { correlate } from './correlate.js';
import { frameObs } from './frames.js';
import { combine, type AgentAnswer, type PortHintSource, type PortHints } from './resolve.js';
import { StethError } from '../../src/errors.js';

/** What the engine needs from the CLI (a CliContext provides it; tests and the bench can too). */
export interface EngineCtx {
  agents: readonly AgentEntry[];
  call<P extends z.ZodTypeAny, R extends z.ZodTypeAny>(agent: string, spec: MethodSpec<P, R>, params: z.input<P>, opts?: { timeoutMs?: number }): Promise<z.output<R>>;
  signal: AbortSignal;
}

export interface DhcpCheckOptions {
  portId: string;
  /** REQUEST → ACK, then RELEASE */
  full?: boolean;
  /** port MAC when neither OVSDB nor Neutron has it */
  mac?: string;
  /** how long to wait for the OFFER (default 3000 ms) */
  waitMs?: number;
  /** after the OFFER, how long hops that have not seen it yet may take (default 250 ms) */
  graceMs?: number;
  pcapDir?: string;
  /** 'compute': only the hops on the port's node (check-dhcp-on-comp) */
  scope?: 'all' | 'compute';
  /** physical NIC to watch (original PHYS_IFACE), default: configured net NIC, else discovered */
  uplink?: string;
  networkType?: NetworkType;
  hints?: PortHintSource;
}

export interface DhcpCheckOutcome {
  port: ResolvedPort;
  plan: HopPlan;
  xid: number;
  observations: PointObs[];
  exchange: ExchangeResult | null;
  verdict: DhcpVerdict;
  pcapFiles: string[];
  timingsMs: { resolve: number; arm: number; exchange: number; collect: number; total: number };
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The agent did not answer at all (deadline, connection refused or lost) — as opposed to
 *  answering with an error (an RpcError: the capture itself failed there). */
function agentLost(e: unknown): boolean {
  return e instanceof StethError && (e.code === 'ETIMEDOUT' || e.code === 'EAGENT');
}

/** One call per agent, each settled into an AgentAnswer on its own (in agent order). */
function answerEach<T>(ctx: EngineCtx, fn: (a: AgentEntry) => Promise<T>): Promise<AgentAnswer<T>>[] {
  return ctx.agents.map(async (a) => {
    try {
      return { node: a.name, ok: true, value: await fn(a) };
    } catch (e) {
      return { node: a.name, ok: false, error: msg(e) };
    }
  });
}

export async function resolveOnAgents(ctx: EngineCtx, opts: DhcpCheckOptions): Promise<ResolvedPort> {
  const hintsP: Promise<PortHints | undefined> = opts.hints ? opts.hints.hints(opts.portId, ctx.signal) : Promise.resolve(undefined);
  const uplinkFor = (a: AgentEntry): string | undefined => opts.uplink ?? a.nics.net;
  const known = opts.mac ?? undefined;
  // one round: every agent reports the port (if it hosts it) and its DHCP servers at once
  const infoPs = answerEach(ctx, (a) => ctx.call(a.name, dhcpPortInfo, { portId: opts.portId, ...(uplinkFor(a) ? { uplink: uplinkFor(a)! } : {}) }));
  const serverPs = answerEach(ctx, (a) => ctx.call(a.name, dhcpServers, { ...(known ? { mac: known.toLowerCase() } : {}), ...(uplinkFor(a) ? { uplink: uplinkFor(a)! } : {}) }));
  // the port MAC as soon as it can be told: the override, else Neutron's, else the attached-mac
  // of the first agent (in configuration order) whose OVSDB has the port
  const macP = (async (): Promise<string | undefined> => {
    const hints = await hintsP;
    if (opts.mac ?? hints?.mac) return opts.mac ?? hints?.mac;
    for (const p of infoPs) {
      const i = await p;
      if (i.ok && i.value?.facts.ovs) return i.value.facts.ovs.externalIds['attached-mac'];
    }
    return undefined;
  })();
  void macP.catch(() => undefined); // a failing hint source is reported through hintsP below
  // then the hostsfile line for that MAC, only where DHCP is served (a file read on the agent),
  // asked of each agent as soon as its servers and the MAC are in, not after every agent answered
  const hostEntriesP = Promise.all(
    serverPs.map(async (sp) => {
      const [a, mac] = await Promise.all([sp, macP]);
      if (!mac || known) return;
      await Promise.all(
        (a.value?.servers ?? []).map(async (s) => {
          try {
            const h = await ctx.call(a.node, dhcpHostEntry, { netns: s.netns, mac: mac.toLowerCase() });
            s.hostsFileRead = h.hostsFileRead;
            if (h.hostEntry) s.hostEntry = h.hostEntry;
          } catch (e) {
            s.warnings.push(`hostsfile lookup failed: ${msg(e)}`);
          }
        }),
      );
    }),
  );
  const [hints, infos, servers] = await Promise.all([hintsP, Promise.all(infoPs), Promise.all(serverPs), hostEntriesP]);
  const override: { mac?: string; networkType?: NetworkType } = {};
  if (opts.mac) override.mac = opts.mac;
  if (opts.networkType) override.networkType = opts.networkType;
  return combine({ portId: opts.portId, infos, servers, hints, override });
}

/**
 * Kernel ring per hop capture: the filter admits only this exchange (port MAC + xid), a
 * handful of frames, so 1 MiB (~500 slots at snaplen 1600) is ample. The 32 MiB default
 * is for rate work; the kernel zeroes the ring on open (~10 ms of CPU at 32 MiB here,
 * measured with libpcap directly: open 24 ms vs 11-15 ms for 0.25-4 MiB), paid once per
 * hop on the port's node while the check waits.
 */
export const HOP_RING_BYTES = 1 << 20;

interface Armed {
  point: CapturePoint;
  id?: string;
  error?: string;
  agentLost?: boolean;
}

export async function runDhcpCheck(ctx: EngineCtx, opts: DhcpCheckOptions): Promise<DhcpCheckOutcome> {
  const t0 = performance.now();
  const port = await resolveOnAgents(ctx, opts);
  const tResolved = performance.now();
  const plan = planHops(port);
  if (opts.scope === 'compute') plan.points = plan.points.filter((p) => p.node === port.host);
  const xid = randomInt(1, 0xffffffff);
  const waitMs = opts.waitMs ?? 3000;
  const observations: PointObs[] = [];
  let exchange: ExchangeResult | null = null;
  const armed: Armed[] = [];
  let tArmed = tResolved;
  let tExchanged = tResolved;
  const pcapFiles: string[] = [];
  const rawByKey = new Map<string, { linkType: number; frames: { tsNs: string; len: number; bytes: string }[] }>();
  try {
    if (plan.injection && plan.blockers.length === 0) {
      // 1. arm every observable hop, in parallel; the handle is active when start returns
      const toArm = plan.points.filter((p) => !p.unobservable);
      const starts = await Promise.all(
        toArm.map(async (p): Promise<Armed> => {
          try {
            const r = await ctx.call(p.node, captureStart, {
              iface: p.iface,
              ...(p.netns ? { netns: p.netns } : {}),
              filter: dhcpFilter(xid, { vxlan: p.encap === 'vxlan' || p.role === 'compute-uplink' || p.role === 'dhcp-uplink' }),
              ttlMs: Math.max(30_000, waitMs * 4),
              maxFrames: 200,
              bufferSize: HOP_RING_BYTES,
            });
            return { point: p, id: r.id };
          } catch (e) {
            return { point: p, error: msg(e), ...(agentLost(e) ? { agentLost: true } : {}) };
          }
        }),
      );
      armed.push(...starts);
      tArmed = performance.now();
      // 2. trigger on the port's node
      const inj = plan.injection;
      try {
        exchange = await ctx.call(
          inj.node,
          dhcpExchange,
          {
            mode: inj.mode,
            iface: inj.iface,
            ...(inj.netns ? { netns: inj.netns } : {}),
            ...(inj.bridge ? { bridge: inj.bridge } : {}),
            ...(inj.ofport ? { ofport: inj.ofport } : {}),
            mac: port.mac,
            xid,
            full: opts.full === true,
            waitMs,
          },
          { timeoutMs: waitMs * 2 + 10_000 },
        );
      } catch (e) {
        exchange = { xid, sentTsNs: '0', offers: [], released: false, error: `agent ${inj.node}: ${msg(e)}` };
      }
      tExchanged = performance.now();
      // 3. collect: a hop that already has the final answer returns at once; the others get a grace period
      const gotAnswer = exchange.offers.length > 0;
      const finalType = opts.full && exchange.ack ? 5 : 2;
      const grace = gotAnswer ? (opts.graceMs ?? 250) : 0;
      const collected = await Promise.all(
        armed.map(async (a): Promise<PointObs> => {
          if (!a.id) return { point: a.point, status: 'unarmed', error: a.error ?? 'not armed', ...(a.agentLost ? { agentLost: true } : {}), frames: [] };
          try {
            const r = await ctx.call(a.point.node, captureCollect, {
              id: a.id,
              waitMs: a.point.expectOffer ? grace : 0,
              ...(gotAnswer && a.point.expectOffer ? { stopWhen: { dhcpXid: xid, dhcpMessageType: finalType } } : {}),
              close: true,
            });
            a.id = undefined;
            rawByKey.set(a.point.key, { linkType: r.linkType, frames: r.frames });
            const frames = r.frames.map((f) => frameObs(Buffer.from(f.bytes, 'hex'), f.tsNs, xid, f.direction)).filter((f): f is FrameObs => f !== undefined);
            return { point: a.point, status: 'ok', frames };
          } catch (e) {
            return { point: a.point, status: 'failed', error: msg(e), ...(agentLost(e) ? { agentLost: true } : {}), frames: [] };
          }
        }),
      );
      observations.push(...collected);
    }
    for (const p of plan.points.filter((x) => x.unobservable)) observations.push({ point: p, status: 'unarmed', error: p.unobservable!, frames: [] });
  } finally {
    // anything still armed (an error above): stop it, best effort
    await Promise.all(armed.filter((a) => a.id).map((a) => ctx.call(a.point.node, captureStop, { id: a.id! }).catch(() => undefined)));
  }
  const tCollected = performance.now();
  const verdict = correlate({ port, plan, obs: observations, exchange, full: opts.full === true });
  if (opts.pcapDir) {
    await mkdir(opts.pcapDir, { recursive: true });
    for (const [key, raw] of rawByKey) {
      const file = join(opts.pcapDir, `${key.replace(/[^A-Za-z0-9_.-]+/g, '_')}.pcap`);
      const buf = encodePcap(
        raw.frames.map((f) => ({ tsNs: BigInt(f.tsNs), bytes: Buffer.from(f.bytes, 'hex'), len: f.len })),
        { linkType: raw.linkType },
      );
      await writeFile(file, buf);
      pcapFiles.push(file);
    }
  }
  return {
    port,
    plan,
    xid,
    observations,
    exchange,
    verdict,
    pcapFiles,
    timingsMs: {
      resolve: round(tResolved - t0),
      arm: round(tArmed - tResolved),
      exchange: round(tExchanged - tArmed),
      collect: round(tCollected - tExchanged),
      total: round(performance.now() - t0),
    },
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
