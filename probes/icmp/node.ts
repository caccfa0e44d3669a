/**
 * Agent side of ICMP: `icmp.ping` (native echo, see engine.ts).
 */
import { fileURLToPath } from 'node:url';
import { StethError, type StethErrorCode } from '../../src/errors.js';
import { run } from '../../src/host/exec.js';
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { icmpPing, type PingParams, type PingResultWire } from './contract.js';
import { ping } from './engine.js';

const PINGER = fileURLToPath(new URL('./pinger.js', import.meta.url));

/** Run the ping engine here, or in a child inside `netns`. */
export async function runPing(p: PingParams, signal?: AbortSignal): Promise<PingResultWire[]> {
  const { netns, ...opts } = p;
  if (netns === undefined) return (await ping({ ...opts, ...(signal ? { signal } : {}) })) as PingResultWire[];
  const budget = p.count * p.intervalMs + p.timeoutMs + 10_000;
  const r = await run(process.execPath, [PINGER], { netns, input: JSON.stringify(opts), timeoutMs: budget, ...(signal ? { signal } : {}), allowFail: true });
  let out: { ok: boolean; results?: PingResultWire[]; error?: { code: string; message: string; hint?: string } };
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    if (/Cannot open network namespace|No such file/i.test(r.stderr)) throw new StethError('ENOENT', `network namespace ${netns} does not exist on this node`);
    throw new StethError('ETOOL', `ping inside ${netns} failed: ${r.stderr.trim().slice(0, 300)}`);
  }
  if (!out.ok || !out.results) {
    const e = out.error ?? { code: 'ETOOL', message: 'ping failed' };
    throw new StethError(e.code as StethErrorCode, e.message, e.hint ? { hint: e.hint } : {});
  }
  return out.results;
}

export const icmpPingImpl = implement(icmpPing, async (p, ctx) => ({ node: ctx.nodeName, results: await runPing(p, ctx.signal) }));

export const methods: MethodImpl[] = [icmpPingImpl as unknown as MethodImpl];
