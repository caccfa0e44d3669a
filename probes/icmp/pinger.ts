/**
 * Child entry for ICMP work inside another network namespace: the agent runs
 * `ip netns exec NS node pinger.js` (argv only) with {kind, params} as JSON on
 * stdin and reads one JSON line back. raw-socket cannot setns() itself, so the
 * whole job (a ping, or a whole MTU search) runs in here.
 */
import { ping } from './engine.js';
import { pingParams } from './contract.js';

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  try {
    const job = JSON.parse(input) as { kind: 'ping' | 'mtu'; params: unknown; node?: string };
    if (job.kind === 'mtu') {
      const { searchMtu } = await import('../mtu/node.js');
      const { mtuSearchParams } = await import('../mtu/contract.js');
      const { netns: _ns, ...p } = mtuSearchParams.parse(job.params);
      const result = await searchMtu(p, job.node ?? '');
      process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
      return;
    }
    const { netns: _ns, ...opts } = pingParams.parse(job.params);
    const results = await ping({ ...opts });
    process.stdout.write(`${JSON.stringify({ ok: true, result: results })}\n`);
  } catch (e) {
    const err = e as { code?: string; message?: string; hint?: string };
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: typeof err.code === 'string' ? err.code : 'ETOOL', message: err.message ?? String(e), hint: err.hint } })}\n`);
  }
}

void main();
