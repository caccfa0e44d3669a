/**
 * `npm run bench -- lab [--quick]`: wall time of `lab up` and `lab down` (goal ≤ 5 s
 * up, ≤ 3 s down on 2 cores) and the resident memory of the lab's daemons right
 * after up. No anchor exists (nothing else builds this lab), so none is reported.
 * Needs root; every run uses its own prefix and removes its lab.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
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
  let agents = 0;
  for (let i = 0; i < runs; i++) {
    const prefix = `b${randomBytes(3).toString('hex')}`;
    try {
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
    ],
  };
}
