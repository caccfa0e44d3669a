/**
 * Trunk matrix planning and correlation (pure).
 *
 * Every node sends `count` broadcast probe frames per VLAN from its NIC; every
 * other node captures on its NIC. One broadcast injection per (sender, VLAN, seq)
 * serves every receiver at once, so the matrix over k nodes costs
 * k × |VLANs| × count frames in total, not k(k-1) × ....
 *
 * Rate bound: all senders run concurrently; a NIC both sends (r fps) and receives
 * from the k-1 others ((k-1)·r fps). The bound `fpsPerNic` caps sent + received
 * frames per NIC, so each sender runs at r = floor(fpsPerNic / k).
 *
 * Sequence numbers encode the VLAN: seq = vlanIndex × count + i, so a receiver can
 * tell which VLAN a frame was sent on even when a switch rewrote or stripped the tag.
 */
import { analyzeDelivery, type DeliveryReport, type ProbeObservation, type Tag } from './analysis.js';

export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;

export interface MatrixOptions {
  nodes: readonly string[];
  vlans: readonly number[];
  /** frames per VLAN per sender */
  count: number;
  /** bound on frames sent + received per NIC per second */
  fpsPerNic: number;
  /** QinQ: each VLAN of the set is the 802.1ad S-tag, this is the inner 802.1Q C-tag */
  qinqInner?: number;
  pcp?: number;
}

export interface SenderPlan {
  node: string;
  /** frames per second this sender injects at */
  fps: number;
  frames: number;
}

export interface MatrixPlan {
  nodes: string[];
  vlans: number[];
  count: number;
  pairs: Array<{ from: string; to: string }>;
  senders: SenderPlan[];
  /** expected duration of the send phase (ms) */
  sendMs: number;
  totalFrames: number;
  qinqInner: number | undefined;
  pcp: number;
}

export function planMatrix(opts: MatrixOptions): MatrixPlan {
  const nodes = [...new Set(opts.nodes)];
  if (nodes.length < 2) throw new RangeError('a trunk matrix needs at least two nodes');
  if (opts.vlans.length === 0) throw new RangeError('empty VLAN set');
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new RangeError('count must be a positive integer');
  if (!(opts.fpsPerNic > 0)) throw new RangeError('fpsPerNic must be positive');
  const fps = Math.max(1, Math.floor(opts.fpsPerNic / nodes.length));
  const perSender = opts.vlans.length * opts.count;
  const pairs: Array<{ from: string; to: string }> = [];
  for (const from of nodes) for (const to of nodes) if (from !== to) pairs.push({ from, to });
  return {
    nodes,
    vlans: [...opts.vlans],
    count: opts.count,
    pairs,
    senders: nodes.map((node) => ({ node, fps, frames: perSender })),
    sendMs: Math.ceil((perSender / fps) * 1000),
    totalFrames: perSender * nodes.length,
    qinqInner: opts.qinqInner,
    pcp: opts.pcp ?? 0,
  };
}

/** The tag stack sent for a VLAN of the plan, outer first. */
export function tagsFor(plan: Pick<MatrixPlan, 'qinqInner' | 'pcp'>, vlan: number): Tag[] {
  if (plan.qinqInner !== undefined) {
    return [
      { tpid: TPID_8021AD, vid: vlan, pcp: plan.pcp },
      { tpid: TPID_8021Q, vid: plan.qinqInner, pcp: plan.pcp },
    ];
  }
  return [{ tpid: TPID_8021Q, vid: vlan, pcp: plan.pcp }];
}

export function seqFor(plan: Pick<MatrixPlan, 'count'>, vlanIndex: number, i: number): number {
  return vlanIndex * plan.count + i;
}

export function vlanIndexOf(plan: Pick<MatrixPlan, 'count'>, seq: number): number {
  return Math.floor(seq / plan.count);
}

/** Frame order for one sender: round-robin over VLANs (seq i of every VLAN, then i+1),
 *  so a burst of loss hits several VLANs a little rather than one VLAN entirely. */
export function sendOrder(plan: Pick<MatrixPlan, 'count' | 'vlans'>): Array<{ vlan: number; seq: number }> {
  const out: Array<{ vlan: number; seq: number }> = [];
  for (let i = 0; i < plan.count; i++) {
    plan.vlans.forEach((vlan, vi) => out.push({ vlan, seq: seqFor(plan, vi, i) }));
  }
  return out;
}

export interface MatrixCell {
  vlan: number;
  from: string;
  to: string;
  report: DeliveryReport;
}

export interface MatrixResult {
  cells: MatrixCell[];
  /** per ordered pair, the VLANs that did not pass (not delivered, partial or tag changed) */
  failing: Array<{ from: string; to: string; vlans: number[]; notDelivered: number[]; partial: number[]; tagChanged: number[] }>;
  /** VLANs that passed between every ordered pair */
  passingEverywhere: number[];
  ok: boolean;
}

export interface SenderIdentity {
  node: string;
  probeId: string;
}

/**
 * Correlate: for every receiver the observations it captured (any sender), and
 * for every sender its probe id. Missing receivers (capture failed) are absent
 * from `observations` and are reported by the caller, not here.
 */
export function correlateMatrix(
  plan: MatrixPlan,
  senders: readonly SenderIdentity[],
  observations: ReadonlyMap<string, readonly ProbeObservation[]>,
): MatrixResult {
  const cells: MatrixCell[] = [];
  const byProbe = new Map(senders.map((s) => [s.probeId, s.node]));
  for (const { from, to } of plan.pairs) {
    const probeId = senders.find((s) => s.node === from)?.probeId;
    const obs = (observations.get(to) ?? []).filter((o) => byProbe.get(o.probeId) === from);
    const perVlan = new Map<number, ProbeObservation[]>();
    for (const o of obs) {
      const vlan = plan.vlans[vlanIndexOf(plan, o.seq)];
      if (vlan === undefined) continue;
      const list = perVlan.get(vlan);
      if (list) list.push(o);
      else perVlan.set(vlan, [o]);
    }
    plan.vlans.forEach((vlan, vi) => {
      const seqs = Array.from({ length: plan.count }, (_, i) => seqFor(plan, vi, i));
      const report = analyzeDelivery({
        probeId: probeId ?? '',
        seqs,
        sent: plan.count,
        expectedTags: tagsFor(plan, vlan),
        observations: perVlan.get(vlan) ?? [],
      });
      cells.push({ vlan, from, to, report });
    });
  }
  const failing: MatrixResult['failing'] = [];
  for (const { from, to } of plan.pairs) {
    const mine = cells.filter((c) => c.from === from && c.to === to);
    const notDelivered = mine.filter((c) => c.report.status === 'not delivered').map((c) => c.vlan);
    const partial = mine.filter((c) => c.report.status === 'partial').map((c) => c.vlan);
    const tagChanged = mine.filter((c) => c.report.delivered > 0 && c.report.tag.verdict !== 'same').map((c) => c.vlan);
    const vlans = [...new Set([...notDelivered, ...partial, ...tagChanged])].sort((a, b) => a - b);
    if (vlans.length > 0) failing.push({ from, to, vlans, notDelivered, partial, tagChanged });
  }
  const bad = new Set(failing.flatMap((f) => f.vlans));
  const passingEverywhere = plan.vlans.filter((v) => !bad.has(v));
  return { cells, failing, passingEverywhere, ok: failing.length === 0 };
}

/** One matrix cell as text: "ok", "—" (not delivered), "2/3", "→200" (rewritten), "untagged", "dup". */
export function cellText(r: DeliveryReport): string {
  if (r.status === 'not delivered') return 'FAIL';
  const parts: string[] = [];
  if (r.status === 'partial') parts.push(`${r.delivered}/${r.sent}`);
  if (r.tag.verdict === 'rewritten') parts.push(`→${(r.tag.seen[0] ?? []).join('.')}`);
  else if (r.tag.verdict === 'stripped') parts.push('stripped');
  else if (r.tag.verdict === 'added') parts.push(`+${(r.tag.seen[0] ?? []).join('.')}`);
  else if (r.tag.verdict === 'mixed') parts.push('mixed');
  if (r.duplicates > 0) parts.push(`dup${r.duplicates}`);
  return parts.length === 0 ? 'ok' : parts.join(' ');
}

/** Compress a sorted VLAN list into "100-105,200". */
export function formatVlanSet(vlans: readonly number[]): string {
  const s = [...new Set(vlans)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
