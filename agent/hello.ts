/** agent.hello: who this agent is and what it can do (the lab waits for it). */
import os from 'node:os';
import { implement, type MethodImpl } from '../src/rpc/method.js';
import { agentHello } from './contract.js';

export { agentHello };
import { ifaceBriefs } from '../src/host/iface.js';
import { getRuntime } from './context.js';

export const methods: MethodImpl[] = [
  implement(agentHello, async (_p, ctx) => {
    const rt = getRuntime();
    let interfaces: Array<{ name: string; state: string; mtu: number; mac: string | null; addresses: string[]; kind: string | null }> = [];
    try {
      interfaces = await cachedBriefs();
    } catch (e) {
      ctx.log('warn', 'agent.hello could not list interfaces', { error: e instanceof Error ? e.message : String(e) });
    }
    return {
      version: rt.version,
      hostname: os.hostname(),
      nodeName: ctx.nodeName,
      pid: process.pid,
      capabilities: rt.capabilities,
      interfaces,
      uptime: Math.round((Date.now() - rt.startedAt) / 100) / 10,
      ovsdb: ctx.ovsdb ?? null,
      authRequired: rt.authRequired,
      tls: rt.tls,
      node: process.version,
      memory: memoryMb(),
    };
  }),
];

function memoryMb(): { rss: number; heapUsed: number; heapTotal: number; external: number } {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 1e5) / 10;
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external + m.arrayBuffers) };
}

/** One sysfs walk per second at most: a burst of hellos (fan-out, lab start) shares it. */
let briefs: { at: number; p: Promise<Awaited<ReturnType<typeof ifaceBriefs>>> } | undefined;
function cachedBriefs(): ReturnType<typeof ifaceBriefs> {
  const now = Date.now();
  if (!briefs || now - briefs.at > 1000) {
    const p = ifaceBriefs();
    briefs = { at: now, p };
    p.catch(() => {
      if (briefs?.p === p) briefs = undefined;
    });
  }
  return briefs.p;
}
