/**
 * `npm run bench -- resolve [--quick]`: the resolve phase of `steth check-dhcp`. Per agent
 * method the CLI (or find-port / check-ports-on-br) calls, the round trip against a lab
 * agent, median of 20 (5 with --quick) warm calls, each spaced past the agents' short view
 * caches so every call reads the node afresh (OVSDB, flow tables, links, /proc); then the
 * CLI's own resolve phase (data.timingsMs.resolve of `check-dhcp -f json`).
 * Anchor, interleaved in the same run (A B A B): say_hello on the same agent, the round trip
 * with no host read behind it (agent.hello walks sysfs); what a method costs above it is its
 * own work.
 * Needs root; brings up its own lab (own prefix) and removes it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labUp } from '../../src/lab/index.js';
import { AgentClient } from '../../src/rpc/client.js';
import { result, summarize, type BenchOptions, type BenchReport } from './harness.js';

const STETH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function resolvePhase(config: string, portId: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [STETH, '--config', config, '-f', 'json', 'check-dhcp', portId], { timeout: 60_000, maxBuffer: 16 << 20 }, (_err, stdout) => {
      try {
        resolve((JSON.parse(stdout) as { data: { timingsMs: { resolve: number } } }).data.timingsMs.resolve);
      } catch {
        resolve(NaN);
      }
    });
  });
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  const runs = opts.quick ? 5 : 20;
  const prefix = `br${randomBytes(2).toString('hex')}`;
  try {
    const lab = await labUp({ prefix });
    const client = (name: string): AgentClient => new AgentClient({ name, url: lab.nodes.find((n) => n.name === name)!.agentUrl, token: lab.token });
    const net = client('network-1');
    const c1 = client('compute-1');
    const vlan = lab.networks.find((n) => n.type === 'vlan')!;
    const port = lab.ports.find((p) => p.node === 'compute-1' && p.hybrid && p.networkId === vlan.id)!;
    const cases: Array<[string, AgentClient, string, unknown]> = [
      ['dhcp.portInfo on the port\'s node', c1, 'dhcp.portInfo', { portId: port.id, uplink: 'eth1' }],
      ['dhcp.portInfo on a node without it', net, 'dhcp.portInfo', { portId: port.id, uplink: 'eth1' }],
      ['dhcp.servers on the network node', net, 'dhcp.servers', { uplink: 'eth1' }],
      ['dhcp.hostEntry on the network node', net, 'dhcp.hostEntry', { netns: vlan.dhcp.netns, mac: port.mac }],
      ['ovs.findPort (find-port)', c1, 'ovs.findPort', { portId: port.id }],
      ['ovs.ports br-int (check-ports-on-br)', c1, 'ovs.ports', { bridge: 'br-int' }],
    ];
    // warm-up (excluded): JIT, keep-alive sockets, first reads
    for (const [, a, m, p] of cases) await a.callRaw(m, p);
    await resolvePhase(lab.configPath, port.id);
    const load0 = loadavg()[0]!;
    const samples = cases.map(() => [] as number[]);
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const [ci, [, a, m, p]] of cases.entries()) {
        await sleep(600); // past the 250/500 ms view caches
        let t0 = performance.now();
        await a.callRaw('say_hello', {});
        bare.push(performance.now() - t0);
        t0 = performance.now();
        await a.callRaw(m, p);
        samples[ci]!.push(performance.now() - t0);
      }
    }
    const cli: number[] = [];
    for (let i = 0; i < runs; i++) {
      const ms = await resolvePhase(lab.configPath, port.id);
      if (Number.isFinite(ms)) cli.push(ms);
    }
    const load1 = loadavg()[0]!;
    const anchor = { name: 'say_hello round trip', value: Math.round(summarize(bare).median * 10) / 10 };
    const results = cases.map(([name], ci) => result(`rpc ${name}`, 'ms', samples[ci]!, { anchor, goal: 'lower is better; ratio = value / anchor' }));
    results.push(result('check_dhcp_resolve_phase', 'ms', cli, { note: 'data.timingsMs.resolve: portInfo + servers on 3 agents, then hostEntry' }));
    return {
      results,
      notes: [
        `${runs} calls per method, each after 600 ms idle (fresh reads), interleaved with say_hello on the same agent; ${runs} check-dhcp runs on a healthy hybrid VLAN port`,
        `load average during the runs: ${load0.toFixed(1)} → ${load1.toFixed(1)} (2 shared cores); figures scale with it`,
      ],
    };
  } finally {
    await labDown(prefix).catch(() => undefined);
  }
}
