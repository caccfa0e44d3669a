/**
 * What the agent knows about itself, visible to handlers that need more than
 * AgentContext (agent.hello). Set once by agent/main.ts (or a test).
 */
import os from 'node:os';

export interface AgentRuntime {
  version: string;
  nodeName: string;
  ovsdb: string | undefined;
  startedAt: number;
  capabilities: string[];
  listen: string;
  port: number;
  tls: boolean;
  authRequired: boolean;
}

let runtime: AgentRuntime = {
  version: '0.1.0',
  nodeName: os.hostname(),
  ovsdb: undefined,
  startedAt: Date.now(),
  capabilities: [],
  listen: '127.0.0.1',
  port: 9698,
  tls: false,
  authRequired: false,
};

export function setRuntime(r: Partial<AgentRuntime>): void {
  runtime = { ...runtime, ...r };
}

export function getRuntime(): AgentRuntime {
  return runtime;
}
