/**
 * Agent side of the VLAN probe: `vlan.send` builds each tagged probe frame right
 * before it leaves (so its sentNs is the real send time) and paces them at `fps`.
 */
import { readFile } from 'node:fs/promises';
import { StethError } from '../../src/errors.js';
import { openInjector, PcapError, type Injector } from '../../src/capture/index.js';
import { encodeFrame, probeFrame, type VlanTagSpec } from '../../src/packet/index.js';
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { run } from '../../src/host/exec.js';
import { assertIfName } from '../../src/validate.js';
import { tagsFor, sendOrder } from './matrix.js';
import { vlanSend, type VlanSendParams, type VlanSendResult } from './contract.js';
import { methods as captureMethods } from '../capture/node.js';
import type { AgentContext } from '../../src/rpc/method.js';

/** Wall clock in ns with µs-level precision (performance.timeOrigin is µs-precise;
 *  Date.now() would put up to 1 ms of error between two processes). */
export function realtimeNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export async function bootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return null;
  }
}

/** MAC of an interface (optionally inside a namespace), from iproute2 JSON. */
export async function ifaceMac(iface: string, netns?: string): Promise<string> {
  assertIfName(iface);
  if (netns === undefined) {
    // this process's namespace: sysfs is cheaper than running ip
    try {
      const mac = (await readFile(`/sys/class/net/${iface}/address`, 'utf8')).trim();
      if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) return mac;
    } catch {
      // fall through to ip for the error message
    }
  }
  const r = await run('ip', ['-json', 'link', 'show', 'dev', iface], { ...(netns ? { netns } : {}), allowFail: true });
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/i.test(r.stderr)) throw new StethError('ENOENT', `interface ${iface} does not exist on this node${netns ? ` (namespace ${netns})` : ''}`);
    throw new StethError('ETOOL', `ip link show ${iface} failed: ${r.stderr.trim().slice(0, 200)}`);
  }
  const links = JSON.parse(r.stdout) as Array<{ address?: string; operstate?: string; flags?: string[] }>;
  const mac = links[0]?.address;
  if (!mac || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) throw new StethError('EINVAL', `interface ${iface} has no Ethernet address`);
  return mac;
}

function pcapToSteth(e: unknown, iface: string): unknown {
  if (!(e instanceof PcapError)) return e;
  const code = (e as PcapError & { code: string }).code;
  if (code === 'ENODEV') return new StethError('ENOENT', `interface ${iface} does not exist on this node`);
  if (code === 'EPERM') return new StethError('EPERM', `no permission to inject on ${iface}`, { hint: 'run the agent as root or grant CAP_NET_RAW' });
  if (code === 'ENETDOWN') return new StethError('EFAULT', `interface ${iface} is down`, { hint: `ip link set ${iface} up` });
  return new StethError('ETOOL', `inject on ${iface}: ${e.message}`);
}

/** offset of sentNs inside the probe payload (src/packet/probe.ts field.SENT_NS) */
const SENT_NS_OFFSET = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function sendProbes(p: VlanSendParams, nodeName: string, signal?: AbortSignal): Promise<VlanSendResult> {
  const srcMac = p.srcMac ?? (await ifaceMac(p.iface, p.netns));
  const origin = p.origin ?? nodeName;
  const plan = { count: p.count, vlans: p.vlans, qinqInner: p.qinqInner, pcp: p.pcp };
  const order = sendOrder(plan);
  let inj: Injector;
  try {
    inj = await openInjector(p.iface, { ...(p.netns ? { netns: p.netns } : {}) });
  } catch (e) {
    throw pcapToSteth(e, p.iface);
  }
  // encode every frame once; just before each slice goes out, its send time is
  // written into the probes (one stamp per sendmmsg batch, so sentNs is the time
  // the batch left, not the time it was built)
  const frames: Buffer[] = [];
  const stampAt: number[] = [];
  for (const o of order) {
    const tags: VlanTagSpec[] = tagsFor(plan, o.vlan).map((t) => ({ vid: t.vid, pcp: t.pcp, tpid: t.tpid }));
    frames.push(encodeFrame(probeFrame({ srcMac, dstMac: p.dstMac ?? 'ff:ff:ff:ff:ff:ff', vlans: tags, probeId: p.probeId, seq: o.seq, origin, sentNs: 0n })));
    stampAt.push(14 + 4 * tags.length + SENT_NS_OFFSET);
  }
  const start = performance.now();
  let sent = 0;
  let firstNs: bigint | undefined;
  let lastNs = 0n;
  try {
    // pace in slices: at most fps × elapsed frames out at any time
    let i = 0;
    while (i < frames.length) {
      if (signal?.aborted) throw new StethError('ECANCELED', 'vlan.send was cancelled');
      const elapsed = performance.now() - start;
      const allowed = Math.min(frames.length, Math.floor((elapsed / 1000) * p.fps) + 1);
      if (allowed <= i) {
        await sleep(Math.max(1, Math.min(20, ((i + 1 - (elapsed / 1000) * p.fps) / p.fps) * 1000)));
        continue;
      }
      const batch = frames.slice(i, allowed);
      const ns = realtimeNs();
      for (let k = i; k < allowed; k++) frames[k]!.writeBigUInt64BE(ns, stampAt[k]!);
      if (firstNs === undefined) firstNs = ns;
      lastNs = ns;
      try {
        sent += batch.length === 1 ? (inj.send(batch[0]!), 1) : inj.sendBatch(batch);
      } catch (e) {
        throw pcapToSteth(e, p.iface);
      }
      i = allowed;
    }
  } finally {
    void inj.close();
  }
  return {
    node: nodeName,
    iface: p.iface,
    srcMac,
    sent,
    firstNs: String(firstNs ?? 0n),
    lastNs: String(lastNs),
    durationMs: Math.round((performance.now() - start) * 1000) / 1000,
    bootId: await bootId(),
  };
}

/** capture.collect of this agent's capture registry, called in-process */
const collectHandler = captureMethods.find((m) => m.spec.name === 'capture.collect');

export const vlanSendImpl = implement(vlanSend, async (p, ctx) => {
  const { thenCollect, ...send } = p;
  const sent = await sendProbes(send, ctx.nodeName, ctx.signal);
  if (thenCollect === undefined) return sent;
  try {
    if (!collectHandler) throw new StethError('ETOOL', 'capture methods are not available on this agent');
    const collected = await (collectHandler.handler as (p: unknown, c: AgentContext) => Promise<unknown>)(thenCollect, ctx);
    return { ...sent, collected: collected as VlanSendResult['collected'] };
  } catch (e) {
    const err = e as { code?: unknown; message?: string };
    return { ...sent, collectError: { code: typeof err.code === 'string' ? err.code : 'ETOOL', message: err.message ?? String(e) } };
  }
});

export const methods: MethodImpl[] = [vlanSendImpl];
