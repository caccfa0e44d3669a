/**
 * `npm run bench -- vlan [--quick]` (root): brings up its own lab (unique prefix),
 * measures, takes it down.
 *
 *  - check-vlan-interface end to end (both directions, 5 probes each, CLI engine
 *    in-process against the lab's agents) — anchor: one iputils `ping -c 1` over
 *    the same tenant link from inside the node (a floor for any per-pair check;
 *    the original subinterface+ping method cannot run here: no 8021q);
 *  - trunk sweep of 100 VLANs between two NICs (check-vlan --vlans 100-199 on two
 *    nodes) — anchor: check-vlan-interface one VLAN at a time, 10 VLANs timed and
 *    scaled to 100;
 *  - trunk matrix of 100 VLANs × all ordered pairs of the lab's 3 nodes;
 *  - check-mtu: healthy (2 sizes per direction) and under the lab's mtu-mismatch
 *    fault (full binary search) — anchor: the same binary search driven by iputils
 *    `ping -M do -s N -c 1 -W 1` from inside the node (how operators do it by hand).
 * Runs are interleaved (ours, anchor, ours, anchor) since the machine is shared.
 * Excluded: lab up/down, the first (warm-up) run of each measurement.
 */
import { labDown, labFault, labHeal, labUp } from '../../src/lab/index.js';
import type { LabState } from '../../src/lab/types.js';
import { run } from '../../src/host/exec.js';
import { runCheckVlanInterface, runCheckVlan } from '../../probes/vlan/run.js';
import { runCheckMtu } from '../../probes/mtu/run.js';
import { searchPathMtu } from '../../probes/mtu/search.js';
import { labDeps } from '../unit/vlan/lab-deps.js';
import { result, round, type BenchOptions, type BenchReport, type BenchResult } from './harness.js';

const now = (): number => performance.now();

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  if (process.getuid?.() !== 0) throw new Error('the vlan benchmark needs root (it builds a lab)');
  const reps = opts.quick ? 5 : 15;
  const prefix = `bv${Math.random().toString(16).slice(2, 6)}`;
  const results: BenchResult[] = [];
  const notes: string[] = [];
  let state: LabState | undefined;
  try {
    state = await labUp({ prefix });
    const s = state;
    const deps = await labDeps(s.configPath);
    const c1 = s.nodes.find((n) => n.name === 'compute-1')!;
    const c2 = s.nodes.find((n) => n.name === 'compute-2')!;
    const cvi = () => runCheckVlanInterface(deps, { agentA: 'compute-1', agentB: 'compute-2', iface: 'eth1', vlan: 100, count: 5 });
    const pingOnce = () => run('ping', ['-c', '1', '-W', '1', '-n', '-q', c2.addresses.net], { netns: c1.netns });

    // warm-up (connections, JIT on the agents)
    await cvi();
    await pingOnce();

    // 1. check-vlan-interface end to end vs one iputils ping
    const ours: number[] = [];
    const anchor: number[] = [];
    let failures = 0;
    for (let i = 0; i < reps; i++) {
      let ok = true;
      ours.push(await timeIt(async () => (ok = (await cvi()).ok)));
      if (!ok) failures++;
      anchor.push(await timeIt(pingOnce));
    }
    const a1 = result('ping (iputils, 1 echo, same link)', 'ms', anchor);
    results.push(result('check_vlan_interface_e2e', 'ms', ours, { anchor: { name: 'iputils ping -c 1 over the same link', value: a1.value }, goal: '≤ 100 ms median', note: `both directions, 5 probes each; ${failures} of ${reps} runs not ok; ratio = ours / anchor (lower is better)` }));

    // 2. trunk sweep of 100 VLANs between two NICs vs one VLAN at a time
    const sweep: number[] = [];
    const oneByOne: number[] = [];
    const sweepReps = opts.quick ? 3 : 7;
    let sweepPass = '';
    await runCheckVlan(deps, { vlans: '100-199', nodes: 'compute-1,compute-2', count: 2 });
    for (let i = 0; i < sweepReps; i++) {
      sweep.push(
        await timeIt(async () => {
          const r = await runCheckVlan(deps, { vlans: '100-199', nodes: 'compute-1,compute-2', count: 2 });
          sweepPass = String((r.data as { passingEverywhere: number[] }).passingEverywhere.length);
        }),
      );
      const t10 = await timeIt(async () => {
        for (let v = 100; v < 110; v++) await runCheckVlanInterface(deps, { agentA: 'compute-1', agentB: 'compute-2', iface: 'eth1', vlan: v, count: 2, waitMs: 100 });
      });
      oneByOne.push(t10 * 10);
    }
    const a2 = result('x', 'ms', oneByOne);
    results.push(result('trunk_sweep_100_vlans_2_nics', 'ms', sweep, { anchor: { name: 'check-vlan-interface per VLAN (10 timed ×10)', value: a2.value }, goal: '≤ 1000 ms', note: `2 frames per VLAN per direction; ${sweepPass} VLANs pass (the lab trunks ${s.trunkedVlans.length}: untrunked ones wait the 300 ms straggler window); ratio = ours / anchor` }));

    // 3. matrix: 100 VLANs × all ordered pairs of 3 nodes
    const matrix: number[] = [];
    for (let i = 0; i < sweepReps; i++) matrix.push(await timeIt(() => runCheckVlan(deps, { vlans: '100-199', count: 2 })));
    results.push(result('trunk_matrix_100_vlans_3_nodes_6_pairs', 'ms', matrix, { note: '3 senders concurrently, 6000 frames/s per NIC bound (2000 per sender), 1800 frames in all' }));

    // 4. check-mtu healthy, and with the mtu-mismatch fault vs the iputils-driven search
    const mtuHealthy: number[] = [];
    for (let i = 0; i < (opts.quick ? 3 : 7); i++) mtuHealthy.push(await timeIt(() => runCheckMtu(deps, { agentA: 'compute-1', agentB: 'compute-2' })));
    results.push(result('check_mtu_healthy', 'ms', mtuHealthy, { note: 'both directions concurrently; 1500 passes at once' }));

    await labFault(prefix, 'mtu-mismatch', { node: 'compute-2', mtu: 1400 });
    try {
      const mtuFault: number[] = [];
      const mtuAnchor: number[] = [];
      let found = '';
      let anchorFound = '';
      for (let i = 0; i < (opts.quick ? 2 : 5); i++) {
        mtuFault.push(
          await timeIt(async () => {
            const r = await runCheckMtu(deps, { agentA: 'compute-1', agentB: 'compute-2', attempts: 2, timeoutMs: 300 });
            found = String((r.data as { pathMtu: number | null }).pathMtu);
          }),
        );
        mtuAnchor.push(
          await timeIt(async () => {
            // the same search, each probe one iputils ping (-W 1 s is its smallest whole-second wait)
            const r = await searchPathMtu(
              async (size) => {
                const p = await run('ping', ['-M', 'do', '-s', String(size - 28), '-c', '1', '-W', '1', '-n', '-q', c2.addresses.net], { netns: c1.netns, allowFail: true });
                return p.code === 0 ? { ok: true } : { ok: false, reason: /too long|mtu/i.test(p.stderr + p.stdout) ? 'local-mtu' : 'timeout' };
              },
              { high: 1500, attempts: 2 },
            );
            anchorFound = String(r.pathMtu);
          }),
        );
      }
      results.push(result('check_mtu_mismatch_fault', 'ms', mtuFault, { anchor: { name: 'same binary search via iputils ping -M do -W 1', value: result('x', 'ms', mtuAnchor).value }, note: `found ${found} (iputils search found ${anchorFound}); 300 ms wait per echo, 2 tries per size; ratio = ours / anchor` }));
    } finally {
      await labHeal(prefix);
    }
    for (const r of results) if (r.anchor && r.anchor.value > 0) r.ratio = round(r.value / r.anchor.value);
    notes.push(`lab ${prefix}: 3 nodes, userspace OVS, tenant switch trunks ${s.trunkedVlans.join(',')}; first run of each measurement excluded (warm-up)`);
    notes.push('machine shared by several builds at once: medians are noisy; compare ours with the anchor of the same run');
  } finally {
    if (state) await labDown(prefix);
  }
  return { results, notes };
}
