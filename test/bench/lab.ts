/**
 * `npm run bench -- lab [--quick]`: wall time of `lab up` and `lab down` (goal ≤ 5 s
 * up, ≤ 3 s down on 2 cores) and the resident memory of the lab's daemons right
 * after up. No anchor exists (nothing else builds this lab), so none is reported.
 * Needs root; every run uses its own prefix and removes its lab.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { labDown, labUp } from '../../src/lab/index.js';
import type { LabState } from '../../src/lab/types.js';
import { result, summarize, type BenchOptions, type BenchReport, type BenchResult } from './harness.js';

function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const TICK = 100; // USER_HZ

/** utime+stime (s) of a process, or of its waited-for children (cutime+cstime) for 'self-children'. */
function cpuSeconds(pid: number | 'self-children' | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid === 'self-children' ? 'self' : pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after ')' start at field 3 (state): utime=14, stime=15, cutime=16, cstime=17
    const [u, st, cu, cs] = [f[11], f[12], f[13], f[14]].map(Number) as [number, number, number, number];
    return (pid === 'self-children' ? cu + cs : u + st) / TICK;
  } catch {
    return 0;
  }
}

function daemonPids(s: LabState): (number | undefined)[] {
  return [s.switch.pids.ovsdb, s.switch.pids.vswitchd, ...s.nodes.flatMap((n) => [n.pids.ovsdb, n.pids.vswitchd, n.agentPid]), ...s.networks.map((n) => n.dhcp.pid)];
}

function daemonRss(s: LabState): Record<string, number> {
  const sum = (pids: (number | undefined)[]): number => pids.reduce<number>((a, p) => a + rssKiB(p), 0) / 1024;
  return {
    'ovsdb-server x4': sum([s.switch.pids.ovsdb, ...s.nodes.map((n) => n.pids.ovsdb)]),
    'ovs-vswitchd x4': sum([s.switch.pids.vswitchd, ...s.nodes.map((n) => n.pids.vswitchd)]),
    'dnsmasq x2': sum(s.networks.map((n) => n.dhcp.pid)),
    'steth-agent x3': sum(s.nodes.map((n) => n.agentPid)),
  };
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  if (process.getuid?.() !== 0) throw new Error('the lab benchmark needs root');
  const runs = opts.quick ? 2 : 5;
  const up: number[] = [];
  const down: number[] = [];
  const rss: Record<string, number[]> = {};
  const phases: Record<string, number[]> = {};
  const cpu: number[] = [];
  let agents = 0;
  for (let i = 0; i < runs; i++) {
    const prefix = `b${randomBytes(3).toString('hex')}`;
    try {
      const c0 = process.cpuUsage();
      const cc0 = cpuSeconds('self-children');
      const t0 = performance.now();
      let last = t0;
      let lastLabel = '';
      const s = await labUp({ prefix }, {
        log: (line) => {
          const now = performance.now();
          if (lastLabel) (phases[lastLabel] ??= []).push(now - last);
          last = now;
          lastLabel = line.replace(/^lab \S+: 10\.\d+\.0\.0\/16, /, '');
        },
      });
      const t1 = performance.now();
      if (lastLabel) (phases[lastLabel] ??= []).push(t1 - last);
      up.push((t1 - t0) / 1000);
      const self = process.cpuUsage(c0);
      cpu.push((self.user + self.system) / 1e6 + (cpuSeconds('self-children') - cc0) + daemonPids(s).reduce<number>((a, p) => a + cpuSeconds(p), 0));
      agents = s.nodes.filter((n) => n.agentPid).length;
      for (const [k, v] of Object.entries(daemonRss(s))) (rss[k] ??= []).push(v);
      const t2 = performance.now();
      await labDown(prefix);
      down.push((performance.now() - t2) / 1000);
    } finally {
      await labDown(prefix).catch(() => undefined);
    }
  }
  const results: BenchResult[] = [
    result('lab_up_wall', 's', up, { goal: '<= 5 s on 2 cores', note: `${agents} agents started` }),
    result('lab_down_wall', 's', down, { goal: '<= 3 s on 2 cores' }),
    result('lab_up_cpu', 's', cpu, { note: 'CPU time of up: this process + the tools it ran + the daemons it started (load-independent)' }),
  ];
  let total: number[] = [];
  for (const [k, v] of Object.entries(rss)) {
    results.push(result(`rss_${k.replace(/[^a-z0-9]+/gi, '_').replace(/_+$/, '')}`, 'MiB', v, { note: `sum over ${k}` }));
    total = total.length === 0 ? [...v] : total.map((x, i) => x + (v[i] ?? 0));
  }
  results.push(result('rss_lab_daemons_total', 'MiB', total));
  const phaseNotes = Object.entries(phases).map(([k, v]) => `${k} ${summarize(v).median.toFixed(0)} ms`);
  return {
    results,
    notes: [
      `${runs} up/down cycles, each with a fresh prefix (first run included: nothing to warm up but page cache)`,
      'no anchor: no other tool builds this lab; the goals come from issue 4',
      `median time per up stage: ${phaseNotes.join(', ')}`,
      'RSS read from /proc/PID/status right after up (before any traffic)',
      `load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores (other work shares the machine; wall times scale with it, lab_up_cpu does not)`,
    ],
  };
}
