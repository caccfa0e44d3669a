/** The agent's own methods (shared by agent and CLI). */
import { z } from 'zod';
import { declare } from '../src/rpc/method.js';

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
    /** process memory in MB (rss, V8 heap used/total, external + array buffers) */
    memory: z.object({ rss: z.number(), heapUsed: z.number(), heapTotal: z.number(), external: z.number() }).optional(),
  }),
  'identify the agent: version, host, node name, methods it serves, interfaces, uptime',
  10_000,
);

