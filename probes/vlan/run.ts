/**
 * What the VLAN commands run (probes/vlan/check.ts declares them and loads this on
 * use): check-vlan-interface both ways with its own probe ids, the --legacy method,
 * and the trunk matrix, each as a CheckResult.
 */
import { StethError } from '../../src/errors.js';
import { assertIfName, assertVlanId, parseVlanSet } from '../../src/validate.js';
import { newProbeId } from '../../src/packet/index.js';
import { armCaptures, fromWire, stopAll, type CapturePoint, type ArmedCapture } from '../../src/capture/remote.js';
import type { CheckResult, Table } from '../../src/report/model.js';
import { EXIT } from '../../src/report/model.js';
import type { NetworkTypeName } from '../../src/config/types.js';
import { ifaceGet, type IfaceReport } from '../iface/contract.js';
import { icmpPing } from '../icmp/contract.js';
import { linkTeardown, vlanAddToInterface } from '../link/contract.js';
import { analyzeDelivery, type DeliveryReport, type ProbeObservation } from './analysis.js';
import { cellText, correlateMatrix, formatVlanSet, planMatrix, tagsFor, type MatrixPlan } from './matrix.js';
import { vlanSend, type VlanSendResult } from './contract.js';
import { agentError, agentOf, assertNetworkType, frameToObservation, ms, nicFor, typeOfIface, type ProbeDeps } from './common.js';

export interface VlanInterfaceArgs {
  agentA: string;
  agentB: string;
  iface: string;
  vlan: number | string;
  /** B's NIC (default: B's NIC of the network type IFACE carries on A, else IFACE) */
  peerIface?: string;
  networkType?: string;
  count?: number;
  pcp?: number;
  fps?: number;
  /** wait for stragglers after sending (ms) */
  waitMs?: number;
  /** QinQ: inner C-tag under an 802.1ad S-tag VLAN_ID */
  qinqInner?: number;
}

export interface DirectionReport {
  from: string;
  to: string;
  fromIface: string;
  toIface: string;
  probeId: string;
  report: DeliveryReport;
  /** a capture or send failed for this direction */
  error?: string;
}

/** Validate everything that needs no agent: nothing is sent when this throws. */
export function validateVlanInterfaceArgs(a: VlanInterfaceArgs): { vlan: number; iface: string; peerIface?: string } {
  const vlan = assertVlanId(a.vlan);
  const iface = assertIfName(a.iface);
  const peerIface = a.peerIface === undefined ? undefined : assertIfName(a.peerIface);
  if (a.agentA === a.agentB) throw new StethError('EINVAL', `both agents are ${a.agentA}: check-vlan-interface needs two different nodes`);
  if (a.qinqInner !== undefined) assertVlanId(a.qinqInner);
  if (a.count !== undefined && (!Number.isInteger(a.count) || a.count < 1 || a.count > 10000)) throw new StethError('EINVAL', `count ${a.count} is out of range 1..10000`);
  if (a.pcp !== undefined && (!Number.isInteger(a.pcp) || a.pcp < 0 || a.pcp > 7)) throw new StethError('EINVAL', `PCP ${a.pcp} is out of range 0..7`);
  return peerIface === undefined ? { vlan, iface } : { vlan, iface, peerIface };
}

async function ifaceOn(deps: ProbeDeps, agent: string, iface: string): Promise<IfaceReport> {
  try {
    return await deps.client(agent).call(ifaceGet, { name: iface }, { signal: deps.signal });
  } catch (e) {
    const err = agentError(agent, `interface ${iface}`, e);
    if (err.code === 'ENOENT') throw new StethError('ENOENT', `interface ${iface} does not exist on ${agent}`, { hint: 'check the NIC names in steth.conf ([agent NAME] net_nic = ...) or pass --peer-iface' });
    throw err;
  }
}

/** PcapError codes that come back from capture.start as RpcError data.code. */
function captureFailure(agent: string, iface: string, e: unknown): { down: boolean; error: StethError } {
  const code = (e as { data?: { code?: string } })?.data?.code;
  if (code === 'ENODEV') return { down: false, error: new StethError('ENOENT', `interface ${iface} does not exist on ${agent}`, { hint: 'check the NIC names in steth.conf ([agent NAME] net_nic = ...) or pass --peer-iface' }) };
  if (code === 'ENETDOWN') return { down: true, error: new StethError('EFAULT', `${agent}:${iface} is down`) };
  return { down: false, error: agentError(agent, `capture on ${iface}`, e) };
}

export async function runCheckVlanInterface(deps: ProbeDeps, args: VlanInterfaceArgs): Promise<CheckResult> {
  const v = validateVlanInterfaceArgs(args);
  const cfg = await deps.config();
  const A = agentOf(cfg, args.agentA);
  const B = agentOf(cfg, args.agentB);
  if (A.name === B.name) throw new StethError('EINVAL', `both agents are ${A.name}: check-vlan-interface needs two different nodes`);
  const type: NetworkTypeName | undefined = args.networkType !== undefined ? assertNetworkType(args.networkType) : typeOfIface(cfg, A, v.iface);
  const peerIface = v.peerIface ?? (type ? nicFor(cfg, B, type) : undefined) ?? v.iface;
  const count = args.count ?? 5;
  const pcp = args.pcp ?? 0;
  const fps = args.fps ?? 5000;
  const sides = [
    { name: A.name, iface: v.iface },
    { name: B.name, iface: peerIface },
  ] as const;
  const expectedTags = tagsFor({ qinqInner: args.qinqInner, pcp }, v.vlan);
  const dirs = [
    { tx: sides[0], rx: sides[1], probeId: newProbeId() },
    { tx: sides[1], rx: sides[0], probeId: newProbeId() },
  ];

  // 1. arm a capture on each NIC (this is also the existence check: a missing or
  //    down NIC fails here, before anything is sent)
  const points: CapturePoint[] = dirs.map((d) => ({
    label: d.rx.name,
    client: deps.client(d.rx.name),
    iface: d.rx.iface,
    filter: { probeId: d.probeId },
    direction: 'in',
    maxFrames: count * 4 + 16,
    ttlMs: 30_000,
    minFrames: count,
    stopWhen: { probeId: d.probeId, count },
  }));
  const tArm = performance.now();
  const armed = await armCaptures(points, { signal: deps.signal });
  const timing = { armMs: Math.round(performance.now() - tArm), sendCollectMs: 0 };
  let closed = false;
  let directions: DirectionReport[];
  let sends: Array<VlanSendResult | undefined> = [];
  try {
    const failures = armed.flatMap((a, i) => (a.error === undefined ? [] : [captureFailure(dirs[i]!.rx.name, dirs[i]!.rx.iface, a.error)]));
    const hard = failures.find((f) => !f.down);
    if (hard) throw hard.error;
    if (failures.length > 0) {
      const why = failures.map((f) => f.error.message).join(', ');
      directions = dirs.map((d) => ({
        from: d.tx.name, to: d.rx.name, fromIface: d.tx.iface, toIface: d.rx.iface, probeId: d.probeId,
        report: analyzeDelivery({ probeId: d.probeId, sent: 0, expectedTags, observations: [] }),
        error: `link down (${why})`,
      }));
    } else {
      // 2. both agents inject at once and, in the same call, collect their own
      //    capture (the other direction's probes): two round trips in all
      const waitMs = args.waitMs ?? 300;
      const tSend = performance.now();
      sends = await Promise.all(
        dirs.map(async (d, i) => {
          const own = armed[1 - i]!; // the capture on this sender's NIC
          try {
            return await deps.client(d.tx.name).call(
              vlanSend,
              {
                iface: d.tx.iface, probeId: d.probeId, vlans: [v.vlan], count, pcp, fps,
                ...(args.qinqInner ? { qinqInner: args.qinqInner } : {}),
                thenCollect: { id: own.id!, waitMs, minFrames: count, stopWhen: { probeId: dirs[1 - i]!.probeId, count }, close: true },
              },
              { signal: deps.signal, timeoutMs: waitMs + 30_000 },
            );
          } catch (e) {
            throw agentError(d.tx.name, `sending on ${d.tx.iface}`, e);
          }
        }),
      );
      timing.sendCollectMs = Math.round(performance.now() - tSend);
      closed = sends.every((x) => x?.collected !== undefined);
      directions = dirs.map((d, i) => {
        const at = sends[1 - i]; // the receiver's call carries what it captured
        const frames = (at?.collected?.frames ?? []).map(fromWire);
        const observations = frames.map(frameToObservation).filter((o): o is ProbeObservation => o !== undefined);
        const out: DirectionReport = {
          from: d.tx.name, to: d.rx.name, fromIface: d.tx.iface, toIface: d.rx.iface, probeId: d.probeId,
          report: analyzeDelivery({ probeId: d.probeId, sent: sends[i]?.sent ?? count, expectedTags, observations }),
        };
        if (at?.collectError) out.error = `${d.rx.name}: collect: ${at.collectError.message}`;
        return out;
      });
    }
  } finally {
    if (!closed) await stopAll(armed);
  }

  const sameClock = sends.length === 2 && sends[0]?.bootId != null && sends[0]?.bootId === sends[1]?.bootId;
  const r = vlanInterfaceResult(v.vlan, args.qinqInner, directions, sameClock, sends.length === 2);
  (r.data as Record<string, unknown>).timing = timing;
  return r;
}

function tagWord(r: DeliveryReport): string {
  switch (r.tag.verdict) {
    case 'same':
      return 'same';
    case 'rewritten':
      return `rewritten to ${(r.tag.seen[0] ?? []).join('.')}`;
    case 'stripped':
      return 'stripped';
    case 'added':
      return `tag added (${(r.tag.seen[0] ?? []).join('.')})`;
    case 'mixed':
      return r.tag.text;
    default:
      return '—';
  }
}

export function directionPasses(d: DirectionReport): boolean {
  return d.error === undefined && d.report.status === 'delivered' && d.report.tag.verdict === 'same' && d.report.duplicates === 0;
}

export function vlanInterfaceResult(vlan: number, qinqInner: number | undefined, directions: DirectionReport[], sameClock: boolean, sent: boolean): CheckResult {
  const vtext = qinqInner === undefined ? `VLAN ${vlan}` : `QinQ ${vlan}.${qinqInner}`;
  const rows = directions.map((d) => {
    const r = d.report;
    return {
      Direction: `${d.from}:${d.fromIface} → ${d.to}:${d.toIface}`,
      Status: d.error && r.delivered === 0 ? d.error : r.status,
      Delivered: `${r.delivered}/${r.sent}`,
      'Loss %': r.lossPct,
      'Tag at receiver': tagWord(r),
      PCP: r.pcp.seen.length ? r.pcp.seen.join(',') : null,
      'Latency min/avg/max ms': r.latency ? `${ms(r.latency.minNs)}/${ms(r.latency.avgNs)}/${ms(r.latency.maxNs)}` : null,
      Duplicates: r.duplicates,
    };
  });
  const table: Table = { title: `${vtext} between NICs`, columns: ['Direction', 'Status', 'Delivered', 'Loss %', 'Tag at receiver', 'PCP', 'Latency min/avg/max ms', 'Duplicates'], rows };
  const ok = directions.every(directionPasses);
  const problems = directions
    .filter((d) => !directionPasses(d))
    .map((d) => {
      const r = d.report;
      const what = d.error && r.delivered === 0 ? d.error : r.status === 'not delivered' ? 'not delivered' : [r.status === 'partial' ? `${r.delivered}/${r.sent} delivered (${r.lossPct}% loss)` : '', r.tag.verdict !== 'same' ? `tag ${tagWord(r)}` : '', r.duplicates ? `${r.duplicates} duplicates` : ''].filter(Boolean).join(', ');
      return `${d.from} → ${d.to}: ${what}`;
    });
  let verdict = ok ? `${vtext} passes both ways between ${directions[0]!.from}:${directions[0]!.fromIface} and ${directions[0]!.to}:${directions[0]!.toIface}` : `${vtext}: ${problems.join('; ')}`;
  const notes: string[] = [];
  if (sent && !sameClock) notes.push('one-way latency compares two hosts\' clocks: it is only as good as their synchronisation');
  if (directions.some((d) => d.report.clockSkewSuspected)) notes.push('some probes arrived before they were sent: the two clocks differ');
  if (notes.length) verdict += ` (${notes.join('; ')})`;
  return {
    command: 'check-vlan-interface',
    ok,
    verdict,
    tables: [table],
    data: { vlan, qinqInner: qinqInner ?? null, sameClock, directions: directions.map((d) => ({ ...d, report: jsonReport(d.report) })) },
  };
}

function jsonReport(r: DeliveryReport): unknown {
  return { ...r, latencyMs: r.latency ? { min: ms(r.latency.minNs), avg: ms(r.latency.avgNs), max: ms(r.latency.maxNs) } : null };
}

/* ------------------------------------------------------------------ legacy */

export async function runCheckVlanInterfaceLegacy(deps: ProbeDeps, args: VlanInterfaceArgs): Promise<CheckResult> {
  const v = validateVlanInterfaceArgs(args);
  const cfg = await deps.config();
  const A = agentOf(cfg, args.agentA);
  const B = agentOf(cfg, args.agentB);
  const type = args.networkType !== undefined ? assertNetworkType(args.networkType) : typeOfIface(cfg, A, v.iface);
  const peerIface = v.peerIface ?? (type ? nicFor(cfg, B, type) : undefined) ?? v.iface;
  await Promise.all([ifaceOn(deps, A.name, v.iface), ifaceOn(deps, B.name, peerIface)]);
  // the original addressed both ends itself; keep that inside 10.0.0.0/8: 10.(200 + vid/256).(vid%256).{1,2}/24
  const net = `10.${200 + (v.vlan >> 8)}.${v.vlan & 255}`;
  const ends = [
    { agent: A.name, iface: v.iface, cidr: `${net}.1/24`, ip: `${net}.1` },
    { agent: B.name, iface: peerIface, cidr: `${net}.2/24`, ip: `${net}.2` },
  ];
  const made: Array<{ agent: string; sub: string; cidr: string }> = [];
  try {
    for (const e of ends) {
      try {
        const r = await deps.client(e.agent).call(vlanAddToInterface, { iface: e.iface, vlanId: v.vlan, cidr: e.cidr, ttlMs: 120_000 }, { signal: deps.signal });
        made.push({ agent: e.agent, sub: r.iface, cidr: e.cidr });
      } catch (err) {
        const se = agentError(e.agent, `VLAN subinterface on ${e.iface}`, err);
        if (/8021q|not supported|Operation not supported|unknown type/i.test(se.message)) {
          return {
            command: 'check-vlan-interface',
            ok: false,
            verdict: `--legacy needs VLAN subinterfaces (the 8021q kernel module), which ${e.agent} does not have; run without --legacy (frame injection, no host change)`,
            tables: [],
            data: { legacy: true, supported: false, agent: e.agent, error: se.message },
            exitCode: EXIT.ENV,
          };
        }
        throw se;
      }
    }
    const r = await deps.client(A.name).call(icmpPing, { dests: [ends[1]!.ip], count: 3, intervalMs: 100, timeoutMs: 1000 }, { signal: deps.signal });
    const p = r.results[0]!;
    const ok = p.received > 0;
    return {
      command: 'check-vlan-interface',
      ok,
      verdict: ok ? `VLAN ${v.vlan}: ${ends[1]!.ip} answered ${p.received}/${p.sent} over ${made.map((m) => `${m.agent}:${m.sub}`).join(' ↔ ')} (legacy mode)` : `VLAN ${v.vlan}: no reply over the subinterfaces (legacy mode)`,
      tables: [{ title: 'legacy ping over VLAN subinterfaces', columns: ['From', 'To', 'Sent', 'Received', 'Loss %', 'rtt avg ms'], rows: [{ From: `${A.name}:${made[0]?.sub}`, To: ends[1]!.ip, Sent: p.sent, Received: p.received, 'Loss %': p.lossPct, 'rtt avg ms': p.rtt?.avg ?? null }] }],
      data: { legacy: true, supported: true, ping: p },
    };
  } finally {
    for (const m of made.reverse()) {
      try {
        await deps.client(m.agent).call(linkTeardown, { iface: m.sub, cidr: m.cidr });
      } catch {
        // the agent's lease undoes it on expiry
      }
    }
  }
}

/* ------------------------------------------------------------------ matrix */

export interface VlanMatrixArgs {
  vlans: string;
  nodes?: string;
  networkType?: string;
  qinqInner?: number;
  count?: number;
  fps?: number;
  waitMs?: number;
  pcp?: number;
}

export async function runCheckVlan(deps: ProbeDeps, args: VlanMatrixArgs): Promise<CheckResult> {
  const vlans = parseVlanSet(args.vlans);
  const type = assertNetworkType(args.networkType ?? 'net');
  if (args.qinqInner !== undefined) assertVlanId(args.qinqInner);
  const count = args.count ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new StethError('EINVAL', `count ${count} is out of range 1..1000`);
  const cfg = await deps.config();
  const names = args.nodes === undefined || args.nodes === 'all' ? cfg.agents.map((a) => a.name) : args.nodes.split(',').map((s) => s.trim()).filter(Boolean);
  const agents = [...new Map(names.map((n) => agentOf(cfg, n)).map((a) => [a.name, a])).values()];
  if (agents.length < 2) throw new StethError('EINVAL', `the trunk matrix needs at least two nodes (got ${agents.map((a) => a.name).join(', ') || 'none'})`);
  const nics = agents.map((a) => {
    const nic = nicFor(cfg, a, type);
    if (!nic) throw new StethError('ECONFIG', `no ${type} NIC configured for ${a.name}`, { hint: `set ${type}_nic in [agent ${a.name}] or network_types` });
    return { name: a.name, nic };
  });

  // 1. arm a capture on every NIC (also the check that it exists and is up): a
  //    node whose capture cannot start is reported and sends nothing
  const ids = new Map(nics.map((n) => [n.name, newProbeId()]));
  const t0 = performance.now();
  const armedAll = await armCaptures(
    nics.map((n) => ({
      label: n.name,
      client: deps.client(n.name),
      iface: n.nic,
      filter: { or: nics.filter((o) => o.name !== n.name).map((o) => ({ probeId: ids.get(o.name)! })) },
      direction: 'in' as const,
      maxFrames: (nics.length - 1) * vlans.length * count * 2 + 64,
      ttlMs: 120_000,
    })),
    { signal: deps.signal },
  );
  const skipped: Array<{ node: string; problem: string }> = [];
  const live: Array<{ name: string; nic: string; armed: ArmedCapture }> = [];
  armedAll.forEach((a, i) => {
    const n = nics[i]!;
    if (a.error === undefined) live.push({ ...n, armed: a });
    else skipped.push({ node: n.name, problem: captureFailure(n.name, n.nic, a.error).error.message });
  });
  const observations = new Map<string, ProbeObservation[]>();
  const captureErrors: string[] = [];
  let sendResults: Array<{ node: string; ok: boolean; error?: string; result?: VlanSendResult }> = [];
  let closed = false;
  if (live.length < 2) {
    await stopAll(armedAll);
    throw new StethError('EAGENT', `fewer than two nodes can take part: ${skipped.map((x) => x.problem).join('; ')}`);
  }
  const plan = planMatrix({ nodes: live.map((l) => l.name), vlans, count, fpsPerNic: args.fps ?? 6000, ...(args.qinqInner !== undefined ? { qinqInner: args.qinqInner } : {}), pcp: args.pcp ?? 0 });
  const senders = live.map((l) => ({ node: l.name, nic: l.nic, probeId: ids.get(l.name)! }));
  const expectedPerReceiver = (live.length - 1) * vlans.length * count;
  const waitMs = args.waitMs ?? 300;
  try {
    // 2. every node sends its probes, then (same call) collects what it captured;
    //    all senders start together, so each one's straggler window covers the others
    sendResults = await Promise.all(
      live.map(async (l) => {
        try {
          const result = await deps.client(l.name).call(
            vlanSend,
            {
              iface: l.nic, probeId: ids.get(l.name)!, vlans, count, fps: plan.senders[0]!.fps, pcp: plan.pcp,
              ...(plan.qinqInner !== undefined ? { qinqInner: plan.qinqInner } : {}),
              thenCollect: { id: l.armed.id!, waitMs, minFrames: expectedPerReceiver, close: true },
            },
            { signal: deps.signal, timeoutMs: 2 * plan.sendMs + waitMs + 30_000 },
          );
          return { node: l.name, ok: true, result };
        } catch (e) {
          return { node: l.name, ok: false, error: agentError(l.name, `sending on ${l.nic}`, e).message };
        }
      }),
    );
    closed = true;
    for (const r of sendResults) {
      if (!r.ok || !r.result) {
        closed = false;
        continue;
      }
      if (r.result.collected) observations.set(r.node, r.result.collected.frames.map(fromWire).map(frameToObservation).filter((o): o is ProbeObservation => o !== undefined));
      else {
        closed = false;
        captureErrors.push(`${r.node}: collect: ${r.result.collectError?.message ?? 'no frames returned'}`);
      }
    }
  } finally {
    if (!closed) await stopAll(armedAll);
  }
  const elapsedMs = Math.round(performance.now() - t0);
  const res = correlateMatrix(plan, senders, observations);
  return matrixResult(plan, res, { skipped, captureErrors, sendErrors: sendResults.filter((x) => !x.ok).map((x) => x.error!), elapsedMs, type, nics: live.map((l) => ({ name: l.name, nic: l.nic })) });
}

export function matrixResult(
  plan: MatrixPlan,
  res: ReturnType<typeof correlateMatrix>,
  extra: { skipped: Array<{ node: string; problem: string }>; captureErrors: string[]; sendErrors: string[]; elapsedMs: number; type: string; nics: Array<{ name: string; nic: string }> },
): CheckResult {
  const pairKey = (p: { from: string; to: string }): string => `${p.from}→${p.to}`;
  const columns = ['VLAN', ...plan.pairs.map(pairKey)];
  const byVlan = new Map<number, Record<string, string | number>>();
  for (const vlan of plan.vlans) byVlan.set(vlan, { VLAN: plan.qinqInner === undefined ? vlan : `${vlan}.${plan.qinqInner}` });
  for (const c of res.cells) byVlan.get(c.vlan)![pairKey(c)] = cellText(c.report);
  const matrix: Table = { title: `trunk matrix (${extra.type} NICs: ${extra.nics.map((n) => `${n.name}:${n.nic}`).join(', ')})`, columns, rows: [...byVlan.values()] };
  const summary: Table = {
    title: 'failing VLANs per direction',
    columns: ['From', 'To', 'Failing', 'Not delivered', 'Partial', 'Tag changed'],
    rows: res.failing.map((f) => ({ From: f.from, To: f.to, Failing: f.vlans.length, 'Not delivered': formatVlanSet(f.notDelivered) || null, Partial: formatVlanSet(f.partial) || null, 'Tag changed': formatVlanSet(f.tagChanged) || null })),
  };
  const tables = [matrix, summary];
  if (extra.skipped.length || extra.captureErrors.length || extra.sendErrors.length) {
    tables.push({ title: 'nodes that could not take part', columns: ['Problem'], rows: [...extra.skipped.map((s) => ({ Problem: s.problem })), ...extra.captureErrors.map((p) => ({ Problem: p })), ...extra.sendErrors.map((p) => ({ Problem: p }))] });
  }
  const incomplete = extra.skipped.length > 0 || extra.captureErrors.length > 0 || extra.sendErrors.length > 0;
  const okAll = res.ok && !incomplete;
  const pass = formatVlanSet(res.passingEverywhere);
  const failSet = formatVlanSet(plan.vlans.filter((v) => !res.passingEverywhere.includes(v)));
  const verdict = res.ok
    ? `all ${plan.vlans.length} VLANs pass between every pair of ${plan.nodes.length} nodes${incomplete ? ` (incomplete: ${extra.skipped.length + extra.captureErrors.length + extra.sendErrors.length} problem(s))` : ''}`
    : `${plan.vlans.length - res.passingEverywhere.length} of ${plan.vlans.length} VLANs fail somewhere: ${failSet}; passing everywhere: ${pass || 'none'}`;
  const r: CheckResult = {
    command: 'check-vlan',
    ok: okAll,
    verdict,
    tables,
    data: {
      vlans: plan.vlans,
      nodes: plan.nodes,
      networkType: extra.type,
      qinqInner: plan.qinqInner ?? null,
      count: plan.count,
      fpsPerSender: plan.senders[0]?.fps ?? null,
      elapsedMs: extra.elapsedMs,
      passingEverywhere: res.passingEverywhere,
      failing: res.failing,
      cells: res.cells.map((c) => ({ vlan: c.vlan, from: c.from, to: c.to, status: c.report.status, delivered: c.report.delivered, sent: c.report.sent, tag: c.report.tag.verdict, seen: c.report.tag.seen, duplicates: c.report.duplicates })),
      problems: { skipped: extra.skipped, captureErrors: extra.captureErrors, sendErrors: extra.sendErrors },
    },
  };
  if (incomplete && res.ok) r.exitCode = EXIT.AGENT;
  return r;
}
