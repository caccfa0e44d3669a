/** agent.hello: who this agent is and what it can do (the lab waits for it). */
import os from 'node:os';
import { z } from 'zod';
import { declare, implement, type MethodImpl } from '../src/rpc/method.js';
import { ifaceReport } from '../src/host/iface.js';
import { getRuntime } from './context.js';

export const agentHello = declare(
  'agent.hello',
  z.object({}).strict().optional(),
  z.object({
    version: z.string(),
    hostname: z.string(),
    nodeName: z.string(),
    pid: z.number().int(),
    capabilities: z.array(z.string()),
    interfaces: z.array(z.object({ name: z.string(), state: z.string(), mtu: z.number(), mac: z.string().nullable(), addresses: z.array(z.string()), kind: z.string().nullable() })),
    /** seconds since the agent started */
    uptime: z.number(),
    ovsdb: z.string().nullable(),
    authRequired: z.boolean(),
    tls: z.boolean(),
    node: z.string(),
  }),
  'identify the agent: version, host, node name, methods it serves, interfaces, uptime',
  10_000,
);

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
