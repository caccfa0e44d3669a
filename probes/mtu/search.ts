/**
 * Path MTU by binary search over DF-set probes (pure: the prober is injected).
 *
 * Sizes are IPv4 total lengths (what an interface MTU limits): an ICMP echo of
 * size S carries S - 28 bytes of payload. A probe fails definitively on an ICMP
 * fragmentation-needed (with the next-hop MTU, which we try next) or a local
 * EMSGSIZE (the sender's own interface MTU); a timeout is retried `attempts`
 * times before the size counts as too big, so random loss does not shrink the
 * answer.
 */

export type ProbeOutcome =
  | { ok: true; rttMs?: number }
  | {
      ok: false;
      /** timeout: no reply; frag-needed: ICMP 3/4; local-mtu: the sender's interface MTU is smaller (EMSGSIZE); error: other ICMP error */
      reason: 'timeout' | 'frag-needed' | 'local-mtu' | 'error';
      nextHopMtu?: number;
      /** who sent the ICMP error */
      from?: string;
      text?: string;
    };

export type Prober = (size: number) => Promise<ProbeOutcome>;

export interface SearchOptions {
  /** smallest size tried first (must pass or the path is down); default 84 (ping's default 64 + 28) */
  low?: number;
  /** largest size tried (usually the largest configured NIC MTU on the path); default 1500 */
  high: number;
  /** tries per size before a timeout counts as "too big"; default 2 */
  attempts?: number;
}

export interface ProbeRecord {
  size: number;
  attempt: number;
  outcome: ProbeOutcome;
}

export interface SearchResult {
  /** largest IPv4 total length that passed; undefined when even `low` failed */
  pathMtu: number | undefined;
  /** smallest size seen failing (pathMtu + 1 when the search converged below `high`) */
  firstFailing: number | undefined;
  /** the first fragmentation-needed seen, if any */
  fragNeeded: { from?: string; nextHopMtu?: number; size: number } | undefined;
  /** EMSGSIZE at the sender: the local MTU, if it was hit */
  localLimit: number | undefined;
  probes: ProbeRecord[];
  reachable: boolean;
}

export async function searchPathMtu(prober: Prober, opts: SearchOptions): Promise<SearchResult> {
  const low = opts.low ?? 84;
  const high = Math.max(low, opts.high);
  const attempts = Math.max(1, opts.attempts ?? 2);
  const probes: ProbeRecord[] = [];
  let fragNeeded: SearchResult['fragNeeded'];
  let localLimit: number | undefined;

  const tryOnce = async (size: number): Promise<ProbeOutcome> => {
    let last: ProbeOutcome = { ok: false, reason: 'timeout' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      last = await prober(size);
      probes.push({ size, attempt, outcome: last });
      if (last.ok) return last;
      if (last.reason === 'frag-needed' && fragNeeded === undefined) {
        fragNeeded = { size };
        if (last.from !== undefined) fragNeeded.from = last.from;
        if (last.nextHopMtu !== undefined) fragNeeded.nextHopMtu = last.nextHopMtu;
      }
      if (last.reason === 'local-mtu' && (localLimit === undefined || size - 1 < localLimit)) localLimit = size - 1;
      if (last.reason !== 'timeout') return last; // definitive
    }
    return last;
  };

  const first = await tryOnce(low);
  if (!first.ok) {
    return { pathMtu: undefined, firstFailing: low, fragNeeded, localLimit, probes, reachable: false };
  }
  let lo = low; // passes
  let hi = high + 1; // first size known (or assumed) to fail
  let candidate: number | undefined = high;
  while (hi - lo > 1) {
    let mid = candidate !== undefined && candidate > lo && candidate < hi ? candidate : Math.floor((lo + hi) / 2);
    candidate = undefined;
    if (mid <= lo || mid >= hi) mid = Math.floor((lo + hi) / 2);
    const out = await tryOnce(mid);
    if (out.ok) {
      lo = mid;
      continue;
    }
    hi = mid;
    // a router told us its next-hop MTU: everything above fails, try exactly that next
    if (out.reason === 'frag-needed' && out.nextHopMtu !== undefined && out.nextHopMtu >= lo && out.nextHopMtu < hi) {
      hi = out.nextHopMtu + 1;
      if (out.nextHopMtu > lo) candidate = out.nextHopMtu;
    }
  }
  return { pathMtu: lo, firstFailing: hi <= high ? hi : undefined, fragNeeded, localLimit, probes, reachable: true };
}

/** Overlay header overheads (IPv4 underlay). */
export const OVERLAY_OVERHEAD = { vxlan: 50, geneve: 50, gre: 42 } as const;

export interface NicMtu {
  node: string;
  iface: string;
  mtu: number | undefined;
}

export interface MtuHint {
  level: 'ok' | 'warn';
  text: string;
}

/**
 * Hints from the measured path MTU and the configured NIC MTUs:
 * - NICs on the path that disagree;
 * - the largest VXLAN tenant MTU the underlay carries (path MTU − 50), and
 *   whether a VXLAN network's configured MTU exceeds it.
 */
export function mtuHints(pathMtu: number | undefined, nics: readonly NicMtu[], vxlanNetworkMtu?: number): MtuHint[] {
  const hints: MtuHint[] = [];
  const known = nics.filter((n) => n.mtu !== undefined) as Array<NicMtu & { mtu: number }>;
  const distinct = [...new Set(known.map((n) => n.mtu))];
  if (distinct.length > 1) {
    const min = Math.min(...distinct);
    const low = known.filter((n) => n.mtu === min).map((n) => `${n.node}:${n.iface}`);
    hints.push({ level: 'warn', text: `NIC MTUs differ on the path (${known.map((n) => `${n.node}:${n.iface}=${n.mtu}`).join(', ')}); the smallest is ${min} on ${low.join(', ')}` });
  }
  if (pathMtu !== undefined) {
    const maxCfg = known.length > 0 ? Math.max(...known.map((n) => n.mtu)) : undefined;
    if (maxCfg !== undefined && pathMtu < maxCfg) {
      hints.push({ level: 'warn', text: `path MTU ${pathMtu} is below the configured NIC MTU ${maxCfg}: something on the path (NIC or switch) is smaller` });
    }
    const vx = pathMtu - OVERLAY_OVERHEAD.vxlan;
    hints.push({ level: 'ok', text: `VXLAN over this path carries tenant MTU ≤ ${vx} (VXLAN needs ${OVERLAY_OVERHEAD.vxlan} bytes below the underlay MTU ${pathMtu})` });
    if (vxlanNetworkMtu !== undefined && vxlanNetworkMtu > vx) {
      hints.push({ level: 'warn', text: `the VXLAN network MTU ${vxlanNetworkMtu} exceeds ${vx}: large tenant packets will be dropped` });
    }
  }
  return hints;
}
