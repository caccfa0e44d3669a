/**
 * Agent side of ARP: arm a capture (ARP only, VLAN-aware, inbound) on the
 * interface, inject the who-has, collect replies until the first one plus a grace
 * period (to catch a second replier) or the deadline.
 */
import { StethError } from '../../src/errors.js';
import { openCapture, PcapError, type Capture } from '../../src/capture/index.js';
import { arpRequest, decodeFrame, encodeFrame, findLayer, findLayers } from '../../src/packet/index.js';
import { run } from '../../src/host/exec.js';
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { realtimeNs, ifaceMac } from '../vlan/node.js';
import { arpProbe, type ArpProbeParams, type ArpProbeResult } from './contract.js';

interface RouteGet {
  dev?: string;
  prefsrc?: string;
}

async function routeTo(ip: string, netns?: string): Promise<RouteGet | undefined> {
  const r = await run('ip', ['-json', 'route', 'get', ip], { ...(netns ? { netns } : {}), allowFail: true });
  if (r.code !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as RouteGet[])[0];
  } catch {
    return undefined;
  }
}

async function firstIpv4(iface: string, netns?: string): Promise<string | undefined> {
  const r = await run('ip', ['-json', '-4', 'addr', 'show', 'dev', iface], { ...(netns ? { netns } : {}), allowFail: true });
  if (r.code !== 0) return undefined;
  try {
    const links = JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>;
    return links[0]?.addr_info?.find((a) => a.local)?.local;
  } catch {
    return undefined;
  }
}

async function linkIsUp(iface: string, netns?: string): Promise<boolean> {
  const r = await run('ip', ['-json', 'link', 'show', 'dev', iface], { ...(netns ? { netns } : {}), allowFail: true });
  if (r.code !== 0) throw new StethError('ENOENT', `interface ${iface} does not exist on this node${netns ? ` (namespace ${netns})` : ''}`);
  const l = (JSON.parse(r.stdout) as Array<{ flags?: string[] }>)[0];
  return (l?.flags ?? []).includes('UP');
}

function pcapError(e: unknown, iface: string): unknown {
  if (!(e instanceof PcapError)) return e;
  const code = (e as PcapError & { code: string }).code;
  if (code === 'ENODEV') return new StethError('ENOENT', `interface ${iface} does not exist on this node`);
  if (code === 'EPERM') return new StethError('EPERM', `no permission to capture on ${iface}`, { hint: 'run the agent as root or grant CAP_NET_RAW' });
  return new StethError('ETOOL', `${iface}: ${e.message}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function probeArp(p: ArpProbeParams, nodeName: string, signal?: AbortSignal): Promise<ArpProbeResult> {
  const ns = p.netns;
  const nsOpt = ns ? { netns: ns } : {};
  let iface = p.iface;
  let senderIp = p.senderIp;
  if (iface === undefined || senderIp === undefined) {
    const route = await routeTo(p.targetIp, ns);
    if (iface === undefined) {
      if (!route?.dev) throw new StethError('ENOENT', `no route to ${p.targetIp} on this node${ns ? ` (namespace ${ns})` : ''}`, { hint: 'name the interface with --iface' });
      iface = route.dev;
    }
    if (senderIp === undefined && route?.dev === iface && route.prefsrc) senderIp = route.prefsrc;
  }
  const base = { node: nodeName, iface, netns: ns ?? null, vlans: p.vlans };
  if (!(await linkIsUp(iface, ns))) {
    return { ...base, senderIp: senderIp ?? '', senderMac: p.senderMac ?? '', sent: 0, sentNs: '0', linkDown: true, replies: [], waitedMs: 0 };
  }
  senderIp ??= (await firstIpv4(iface, ns)) ?? '0.0.0.0';
  const senderMac = p.senderMac ?? (await ifaceMac(iface, ns));

  let cap: Capture;
  try {
    // one handle listens for replies and sends the requests (it never sees its own frames)
    cap = await openCapture({ iface, ...nsOpt, filter: { arp: true }, direction: 'in', snaplen: 128, bufferSize: 1 << 20 });
  } catch (e) {
    const err = e as PcapError & { code: string };
    if (err instanceof PcapError && err.code === 'ENETDOWN') {
      return { ...base, senderIp, senderMac, sent: 0, sentNs: '0', linkDown: true, replies: [], waitedMs: 0 };
    }
    throw pcapError(e, iface);
  }
  const replies: ArpProbeResult['replies'] = [];
  const t0 = performance.now();
  let sent = 0;
  let sentNs = 0n;
  try {
    const frame = encodeFrame(arpRequest({ senderMac, senderIp, targetIp: p.targetIp, vlans: p.vlans }));
    let firstReplyAt: number | undefined;
    let nextSend = 0;
    const deadline = t0 + p.waitMs;
    while (true) {
      const now = performance.now();
      if (signal?.aborted) throw new StethError('ECANCELED', 'arp.probe was cancelled');
      if (sent < p.count && now - t0 >= nextSend) {
        if (sent === 0) sentNs = realtimeNs();
        cap.send(frame);
        sent++;
        nextSend += 100;
      }
      for (const f of cap.take()) {
        const d = decodeFrame(f.bytes);
        const a = findLayer(d.layers, 'arp');
        const eth = findLayer(d.layers, 'ethernet');
        if (!a || !eth || a.op !== 2) continue;
        replies.push({
          tsNs: String(f.tsNs),
          op: a.op,
          senderMac: a.senderMac,
          senderIp: a.senderIp,
          targetMac: a.targetMac,
          targetIp: a.targetIp,
          ethSrc: eth.src,
          vlans: findLayers(d.layers, 'vlan').map((v) => v.vid),
        });
        if (a.senderIp === p.targetIp && firstReplyAt === undefined) firstReplyAt = performance.now();
      }
      const end = firstReplyAt === undefined ? deadline : Math.min(deadline, firstReplyAt + p.graceMs);
      if (now >= end && sent >= Math.min(p.count, 1)) break;
      await sleep(Math.min(10, Math.max(1, end - now)));
    }
  } catch (e) {
    throw pcapError(e, iface);
  } finally {
    void cap.close();
  }
  return { ...base, senderIp, senderMac, sent, sentNs: String(sentNs), linkDown: false, replies, waitedMs: Math.round(performance.now() - t0) };
}

export const arpProbeImpl = implement(arpProbe, async (p, ctx) => probeArp(p, ctx.nodeName, ctx.signal));

export const methods: MethodImpl[] = [arpProbeImpl];
