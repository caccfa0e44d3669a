/** agent.hello: who this agent is and what it can do (the lab waits for it). */
import os from 'node:os';
import { implement, type MethodImpl } from '../src/rpc/method.js';
import { agentHello } from './contract.js';

export { agentHello };
import { ifaceReport } from '../src/host/iface.js';
import { getRuntime } from './context.js';

export const methods: MethodImpl[] = [
  implement(agentHello, async (_p, ctx) => {
    const rt = getRuntime();
    let interfaces: Array<{ name: string; state: string; mtu: number; mac: string | null; addresses: string[]; kind: string | null }> = [];
    try {
      interfaces = (await ifaceReport(undefined, { signal: ctx.signal })).map((r) => ({
        name: r.name,
        state: r.state,
        mtu: r.mtu,
        mac: r.mac,
        addresses: r.addresses.map((a) => `${a.address}/${a.prefix}`),
        kind: r.kind,
      }));
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
    };
  }),
];
