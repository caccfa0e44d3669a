/**
 * Agent side of ICMP: `icmp.ping` (native echo, see engine.ts).
 */
import { fileURLToPath } from 'node:url';
import { StethError, type StethErrorCode } from '../../src/errors.js';
import { run } from '../../src/host/exec.js';
import { z } from 'zod';
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { compatMethod } from '../../src/rpc/compat.js';
import { ifName } from '../iface/contract.js';
import { icmpPing, ipv4Address, pingParams, type PingParams, type PingResultWire } from './contract.js';
import { ping } from './engine.js';

const PINGER = fileURLToPath(new URL('./pinger.js', import.meta.url));

/** Run a job in a child inside `netns` (pinger.ts). */
export async function inNetns<T>(netns: string, kind: 'ping' | 'mtu', params: unknown, budgetMs: number, node: string, signal?: AbortSignal): Promise<T> {
  const r = await run(process.execPath, [PINGER], { netns, input: JSON.stringify({ kind, params, node }), timeoutMs: budgetMs, ...(signal ? { signal } : {}), allowFail: true });
  let out: { ok: boolean; result?: T; error?: { code: string; message: string; hint?: string } };
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    if (/Cannot open network namespace|No such file/i.test(r.stderr)) throw new StethError('ENOENT', `network namespace ${netns} does not exist on this node`);
    throw new StethError('ETOOL', `${kind} inside ${netns} failed: ${r.stderr.trim().slice(0, 300)}`);
  }
  if (!out.ok || out.result === undefined) {
    const e = out.error ?? { code: 'ETOOL', message: `${kind} failed` };
    throw new StethError(e.code as StethErrorCode, e.message, e.hint ? { hint: e.hint } : {});
  }
  return out.result;
}

/** Run the ping engine here, or in a child inside `netns`. */
export async function runPing(p: PingParams, signal?: AbortSignal): Promise<PingResultWire[]> {
  const { netns, ...opts } = p;
  if (netns === undefined) return (await ping({ ...opts, ...(signal ? { signal } : {}) })) as PingResultWire[];
  return await inNetns<PingResultWire[]>(netns, 'ping', opts, p.count * p.intervalMs + p.timeoutMs + 30_000, '', signal);
}

export const icmpPingImpl = implement(icmpPing, async (p, ctx) => ({ node: ctx.nodeName, results: await runPing(p, ctx.signal) }));

/**
 * The original agent's `ping(ips, boardcast=False, count=2, timeout=2, interface=None)`:
 * same keyword/positional params (timeout in seconds, per reply), answered in the
 * {code, message, data} envelope; data is keyed by IP with the native figures.
 * `boardcast` (sic) is refused: a broadcast echo has no single replier to match.
 */
export const compatPing = compatMethod(
  'ping',
  ['ips', 'boardcast', 'count', 'timeout', 'interface'],
  z
    .object({
      ips: z.union([z.array(ipv4Address).min(1).max(256), ipv4Address.transform((s) => [s])]),
      boardcast: z.boolean().default(false),
      count: z.number().int().min(1).max(1000).default(2),
      timeout: z.number().min(0.01).max(60).default(2),
      interface: ifName.nullable().optional(),
    })
    .strict(),
  async (p, ctx) => {
    if (p.boardcast) throw new StethError('EINVAL', 'broadcast ping is not supported: name the destinations');
    const params = pingParams.parse({
      dests: p.ips,
      count: p.count,
      intervalMs: 200,
      timeoutMs: Math.round(p.timeout * 1000),
      ...(p.interface ? { iface: p.interface } : {}),
    });
    const results = await runPing(params, ctx.signal);
    const data: Record<string, unknown> = {};
    for (const r of results) {
      data[r.dest] = {
        status: r.status,
        sent: r.sent,
        received: r.received,
        loss: r.lossPct,
        packet_loss: `${r.lossPct}%`,
        rtt_min: r.rtt?.min ?? null,
        rtt_avg: r.rtt?.avg ?? null,
        rtt_max: r.rtt?.max ?? null,
        rtt_mdev: r.rtt?.mdev ?? null,
        errors: r.errors.map((e) => e.text),
      };
    }
    const bad = results.filter((r) => r.received === 0).map((r) => r.dest);
    return { message: bad.length === 0 ? 'all destinations answered' : `no reply from ${bad.join(', ')}`, data };
  },
  'original steth method ping: ICMP echo to each IP (native, no ping binary)',
  130_000,
);

export const methods: MethodImpl[] = [icmpPingImpl, compatPing];
