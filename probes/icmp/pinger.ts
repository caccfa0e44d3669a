/**
 * Child entry for pings inside another network namespace: the agent runs
 * `ip netns exec NS node pinger.js` (argv only) with the options as JSON on
 * stdin, and reads one JSON line back. raw-socket cannot setns() itself.
 */
import { ping } from './engine.js';
import { pingParams } from './contract.js';

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const p = pingParams.parse(JSON.parse(input));
  const { netns: _ns, ...opts } = p;
  try {
    const results = await ping({ ...opts });
    process.stdout.write(`${JSON.stringify({ ok: true, results })}\n`);
  } catch (e) {
    const err = e as { code?: string; message?: string; hint?: string };
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code ?? 'ETOOL', message: err.message ?? String(e), hint: err.hint } })}\n`);
  }
}

void main();
