/**
 * Agent side of check-mtu: binary search (search.ts) driven by single DF echoes
 * from the ICMP engine.
 */
import { StethError } from '../../src/errors.js';
import { run } from '../../src/host/exec.js';
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { pingParams } from '../icmp/contract.js';
import { inNetns, runPing } from '../icmp/node.js';
import { mtuSearch, type MtuSearchParams, type MtuSearchResult } from './contract.js';
import { searchPathMtu, type ProbeOutcome } from './search.js';

async function routeInfo(dest: string, netns?: string, iface?: string): Promise<{ dev: string | null; mtu: number | null }> {
  const args = ['-json', 'route', 'get', dest, ...(iface ? ['oif', iface] : [])];
  const r = await run('ip', args, { ...(netns ? { netns } : {}), allowFail: true });
  if (r.code !== 0) {
    if (/Cannot open network namespace/i.test(r.stderr)) throw new StethError('ENOENT', `network namespace ${netns} does not exist on this node`);
    return { dev: null, mtu: null };
  }
  const dev = (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0]?.dev ?? null;
  if (!dev) return { dev: null, mtu: null };
  const l = await run('ip', ['-json', 'link', 'show', 'dev', dev], { ...(netns ? { netns } : {}), allowFail: true });
  const mtu = l.code === 0 ? ((JSON.parse(l.stdout) as Array<{ mtu?: number }>)[0]?.mtu ?? null) : null;
  return { dev, mtu };
}

export async function searchMtu(p: MtuSearchParams, nodeName: string, signal?: AbortSignal): Promise<MtuSearchResult> {
  if (p.netns !== undefined) {
    // the whole search runs in one child inside the namespace (raw-socket cannot setns)
    const { netns, ...rest } = p;
    return await inNetns<MtuSearchResult>(netns, 'mtu', rest, 110_000, nodeName, signal);
  }
  const t0 = performance.now();
  const route = await routeInfo(p.dest, p.netns, p.iface);
  const high = p.high ?? route.mtu ?? 1500;
  const prober = async (size: number): Promise<ProbeOutcome> => {
    const params = pingParams.parse({
      dests: [p.dest],
      count: 1,
      timeoutMs: p.timeoutMs,
      size: Math.max(0, size - 28),
      df: true,
      ...(p.iface ? { iface: p.iface } : {}),
      ...(p.source ? { source: p.source } : {}),
      ...(p.netns ? { netns: p.netns } : {}),
    });
    const [r] = await runPing(params, signal);
    if (!r) return { ok: false, reason: 'error' };
    if (r.received > 0) return { ok: true, ...(r.rtt ? { rttMs: r.rtt.avg } : {}) };
    if (r.status === 'local-mtu') return { ok: false, reason: 'local-mtu' };
    const frag = r.errors.find((e) => e.kind === 'frag-needed');
    if (frag) return { ok: false, reason: 'frag-needed', from: frag.from, ...(frag.nextHopMtu ? { nextHopMtu: frag.nextHopMtu } : {}) };
    if (r.errors.length > 0 || r.sendErrors.length > 0) return { ok: false, reason: 'error', text: [...r.errors.map((e) => e.text), ...r.sendErrors.map((e) => e.message)].join('; ') };
    return { ok: false, reason: 'timeout' };
  };
  const res = await searchPathMtu(prober, { low: p.low, high, attempts: p.attempts });
  return {
    node: nodeName,
    dest: p.dest,
    routeIface: route.dev,
    routeIfaceMtu: route.mtu,
    low: p.low,
    high,
    pathMtu: res.pathMtu ?? null,
    firstFailing: res.firstFailing ?? null,
    fragNeeded: res.fragNeeded ?? null,
    localLimit: res.localLimit ?? null,
    reachable: res.reachable,
    probes: res.probes.map((x) => ({ size: x.size, attempt: x.attempt, outcome: x.outcome.ok ? { ok: true, ...(x.outcome.rttMs !== undefined ? { rttMs: x.outcome.rttMs } : {}) } : { ok: false, reason: x.outcome.reason, ...(x.outcome.nextHopMtu ? { nextHopMtu: x.outcome.nextHopMtu } : {}), ...(x.outcome.from ? { from: x.outcome.from } : {}) } })),
    elapsedMs: Math.round(performance.now() - t0),
  };
}

export const mtuSearchImpl = implement(mtuSearch, async (p, ctx) => searchMtu(p, ctx.nodeName, ctx.signal));

export const methods: MethodImpl[] = [mtuSearchImpl];
