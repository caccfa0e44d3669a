/**
 * Shared by the vlan/arp/ping/mtu e2e tests (not a test file): ProbeDeps for a
 * lab's generated steth.conf, a JSON runCli wrapper, and a probe-frame watcher
 * that proves "nothing was sent" on bad input.
 */
import { loadConfig } from '../../../src/config/load.js';
import { AgentClient } from '../../../src/rpc/client.js';
import { runCli } from '../../../src/cli/run.js';
import { openCapture, type Capture } from '../../../src/capture/index.js';
import type { ProbeDeps } from '../../../probes/vlan/common.js';

export async function labDeps(configPath: string): Promise<ProbeDeps> {
  const cfg = await loadConfig({ path: configPath });
  const clients = new Map<string, AgentClient>();
  return {
    config: async () => cfg,
    client: (name: string) => {
      let c = clients.get(name);
      if (!c) {
        const a = cfg.agents.find((x) => x.name === name);
        if (!a) throw new Error(`no agent ${name}`);
        c = new AgentClient({ name, url: a.url, timeoutMs: 30_000, ...(cfg.token !== undefined ? { token: cfg.token } : {}) });
        clients.set(name, c);
      }
      return c;
    },
    signal: new AbortController().signal,
  };
}

/** Run the CLI in-process with -f json; returns the exit code and the parsed stdout. */
export async function cliJson(configPath: string, argv: string[]): Promise<{ code: number; json: any; stderr: string }> {
  let out = '';
  let err = '';
  const r = await runCli(['--config', configPath, '-f', 'json', ...argv], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    json = undefined;
  }
  return { code: r.code, json, stderr: err };
}

/** Watch an interface (inside a node namespace) for steth probe frames (EtherType 0x88B5, any tag). */
export async function watchProbes(iface: string, netns: string): Promise<{ cap: Capture; count(): number; close(): Promise<void> }> {
  const cap = await openCapture({ iface, netns, filter: { etherType: 0x88b5 }, direction: 'inout', keepAlive: false });
  let n = 0;
  return {
    cap,
    count: () => {
      n += cap.take().length;
      return n;
    },
    close: () => cap.close(),
  };
}
