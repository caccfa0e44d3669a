/**
 * Pure analysis of VLAN probe delivery: what one receiver saw of the probe frames
 * one sender injected. No I/O here; check.ts feeds it the frames capture.collect
 * returned (already decoded into ProbeObservation) and renders the result.
 *
 * Per direction we report: delivered n/N (distinct sequence numbers), loss,
 * duplicates (copies beyond the first of a sequence number), the tag stack the
 * receiver saw compared with the one sent (same / rewritten / stripped / added /
 * mixed), the PCP values seen and one-way latency from the probe's send time to
 * the receiver's capture time.
 */

/** One 802.1Q / 802.1ad tag, outer first in a stack. */
export interface Tag {
  readonly tpid: number;
  readonly vid: number;
  readonly pcp: number;
}

/** One captured probe frame, reduced to what the analysis needs. */
export interface ProbeObservation {
  /** capture time at the receiver (ns since the epoch, receiver's clock) */
  readonly tsNs: bigint;
  /** VLAN tags as captured, outer first ([] = untagged) */
  readonly tags: readonly Tag[];
  readonly probeId: string;
  readonly seq: number;
  /** send time written by the sender (ns since the epoch, sender's clock) */
  readonly sentNs: bigint;
  /** Ethernet source MAC (identifies the sender in a matrix run) */
  readonly srcMac?: string;
}

export type TagVerdict = 'same' | 'rewritten' | 'stripped' | 'added' | 'mixed' | 'none';

export interface TagReport {
  verdict: TagVerdict;
  /** VIDs sent, outer first */
  expected: number[];
  /** distinct tag stacks seen (each outer first), most frequent first */
  seen: number[][];
  /** human summary: "same (100)", "rewritten 100 → 200", "stripped", ... */
  text: string;
}

export interface LatencyReport {
  minNs: number;
  avgNs: number;
  maxNs: number;
}

export interface DeliveryReport {
  probeId: string;
  sent: number;
  /** distinct sequence numbers received */
  delivered: number;
  lost: number;
  /** 0..100, one decimal */
  lossPct: number;
  /** copies beyond the first of each sequence number */
  duplicates: number;
  /** frames received whose seq was not among those sent (should be 0) */
  unexpected: number;
  /** frames that arrived after a higher sequence number */
  reordered: number;
  tag: TagReport;
  /** PCP values seen (distinct, ascending) and the one sent */
  pcp: { expected: number; seen: number[] };
  /** undefined when nothing was delivered */
  latency: LatencyReport | undefined;
  /** true when some frame appears to arrive before it was sent: the clocks differ */
  clockSkewSuspected: boolean;
  /** 'delivered' | 'partial' | 'not delivered' */
  status: 'delivered' | 'partial' | 'not delivered';
}

export interface DeliveryInput {
  probeId: string;
  /** the sequence numbers sent (default 0..sent-1) */
  seqs?: readonly number[];
  sent: number;
  /** tag stack the sender put on the frames, outer first */
  expectedTags: readonly Tag[];
  observations: readonly ProbeObservation[];
}

/** A sender stamps with its process's view of the wall clock (µs-precise, see
 *  vlan/node.ts realtimeNs); a frame "arriving" up to this much before it was sent
 *  is stamping error, beyond it the two clocks differ. */
export const SKEW_TOLERANCE_NS = 200_000;

/** Analyse what one receiver saw of one sender's probes. */
export function analyzeDelivery(input: DeliveryInput): DeliveryReport {
  const seqs = new Set(input.seqs ?? range(input.sent));
  const counts = new Map<number, number>();
  const firstSeen = new Map<number, ProbeObservation>();
  let unexpected = 0;
  let reordered = 0;
  let highest = -1;
  const stacks = new Map<string, { tags: readonly Tag[]; n: number }>();
  const pcps = new Set<number>();
  const ordered = [...input.observations].filter((o) => o.probeId === input.probeId).sort((a, b) => cmpBig(a.tsNs, b.tsNs));
  for (const o of ordered) {
    if (!seqs.has(o.seq)) {
      unexpected++;
      continue;
    }
    counts.set(o.seq, (counts.get(o.seq) ?? 0) + 1);
    if (!firstSeen.has(o.seq)) {
      firstSeen.set(o.seq, o);
      if (o.seq < highest) reordered++;
      highest = Math.max(highest, o.seq);
    }
    const key = o.tags.map((t) => `${t.tpid}:${t.vid}`).join('/');
    const s = stacks.get(key);
    if (s) s.n++;
    else stacks.set(key, { tags: o.tags, n: 1 });
    if (o.tags[0]) pcps.add(o.tags[0].pcp);
  }
  const delivered = firstSeen.size;
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  const sent = seqs.size;
  const lost = sent - delivered;

  let latency: LatencyReport | undefined;
  let clockSkewSuspected = false;
  if (delivered > 0) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const o of firstSeen.values()) {
      const d = Number(o.tsNs - o.sentNs);
      if (d < -SKEW_TOLERANCE_NS) clockSkewSuspected = true;
      min = Math.min(min, d);
      max = Math.max(max, d);
      sum += d;
    }
    latency = { minNs: min, avgNs: Math.round(sum / delivered), maxNs: max };
  }

  const seenStacks = [...stacks.values()].sort((a, b) => b.n - a.n).map((s) => s.tags);
  const tag = compareTags(input.expectedTags, seenStacks);
  const expectedPcp = input.expectedTags[0]?.pcp ?? 0;
  return {
    probeId: input.probeId,
    sent,
    delivered,
    lost,
    lossPct: sent === 0 ? 0 : Math.round((lost / sent) * 1000) / 10,
    duplicates,
    unexpected,
    reordered,
    tag,
    pcp: { expected: expectedPcp, seen: [...pcps].sort((a, b) => a - b) },
    latency,
    clockSkewSuspected,
    status: delivered === 0 ? 'not delivered' : delivered < sent ? 'partial' : 'delivered',
  };
}

/** Compare the sent tag stack with the stacks seen at the receiver. */
export function compareTags(expected: readonly Tag[], seen: readonly (readonly Tag[])[]): TagReport {
  const exp = expected.map((t) => t.vid);
  const seenVids = seen.map((s) => s.map((t) => t.vid));
  const fmt = (v: readonly number[]): string => (v.length === 0 ? 'untagged' : v.join('.'));
  if (seen.length === 0) return { verdict: 'none', expected: exp, seen: [], text: 'nothing received' };
  if (seen.length > 1) {
    return { verdict: 'mixed', expected: exp, seen: seenVids, text: `mixed: ${seenVids.map(fmt).join(', ')} (sent ${fmt(exp)})` };
  }
  const got = seenVids[0]!;
  if (sameVids(exp, got)) return { verdict: 'same', expected: exp, seen: seenVids, text: `same (${fmt(exp)})` };
  if (got.length < exp.length && (got.length === 0 || sameVids(exp.slice(exp.length - got.length), got))) {
    return { verdict: 'stripped', expected: exp, seen: seenVids, text: got.length === 0 ? 'stripped (untagged)' : `outer tag stripped (${fmt(got)})` };
  }
  if (got.length > exp.length && sameVids(got.slice(got.length - exp.length), exp)) {
    return { verdict: 'added', expected: exp, seen: seenVids, text: `tag added: ${fmt(got)} (sent ${fmt(exp)})` };
  }
  return { verdict: 'rewritten', expected: exp, seen: seenVids, text: `rewritten ${fmt(exp)} → ${fmt(got)}` };
}

function sameVids(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Latency in ms with 3 decimals for tables. */
export function nsToMs(ns: number): number {
  return Math.round(ns / 1000) / 1000;
}
