/**
 * ARP reply analysis (pure): who answered a who-has, with which MAC, how fast,
 * and whether two different MACs claim the same IP (duplicate address).
 */

export interface ArpReplyObservation {
  tsNs: bigint;
  /** ARP sender hardware / protocol address (the answer) */
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  /** Ethernet source (may differ from senderMac: proxy ARP, a bridge rewriting) */
  ethSrc: string;
  /** VLAN ids on the reply as captured, outer first */
  vlans: number[];
  /** ARP op (2 = reply) */
  op: number;
}

export interface ArpReplier {
  mac: string;
  replies: number;
  /** ms from the request to the first reply from this MAC */
  firstReplyMs: number | undefined;
  ethSrc: string[];
  vlans: number[][];
}

export interface ArpAnalysis {
  targetIp: string;
  answered: boolean;
  repliers: ArpReplier[];
  /** two or more distinct MACs answered for one IP */
  duplicate: boolean;
  /** a reply whose Ethernet source differs from its ARP sender MAC */
  ethMismatch: boolean;
  verdict: string;
}

export function analyzeArp(targetIp: string, sentNs: bigint | undefined, replies: readonly ArpReplyObservation[], ownMac?: string): ArpAnalysis {
  const byMac = new Map<string, ArpReplier>();
  let ethMismatch = false;
  const sorted = [...replies].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
  for (const r of sorted) {
    if (r.op !== 2 || r.senderIp !== targetIp) continue;
    if (ownMac !== undefined && r.senderMac === ownMac) continue;
    if (r.ethSrc !== r.senderMac) ethMismatch = true;
    let e = byMac.get(r.senderMac);
    if (!e) {
      e = { mac: r.senderMac, replies: 0, firstReplyMs: sentNs === undefined ? undefined : Math.round(Number(r.tsNs - sentNs) / 1000) / 1000, ethSrc: [], vlans: [] };
      byMac.set(r.senderMac, e);
    }
    e.replies++;
    if (!e.ethSrc.includes(r.ethSrc)) e.ethSrc.push(r.ethSrc);
    const key = r.vlans.join('.');
    if (!e.vlans.some((v) => v.join('.') === key)) e.vlans.push(r.vlans);
  }
  const repliers = [...byMac.values()];
  const duplicate = repliers.length > 1;
  const verdict =
    repliers.length === 0
      ? `no ARP reply for ${targetIp}`
      : duplicate
        ? `DUPLICATE: ${targetIp} is claimed by ${repliers.map((r) => r.mac).join(' and ')}`
        : `${targetIp} is at ${repliers[0]!.mac}`;
  return { targetIp, answered: repliers.length > 0, repliers, duplicate, ethMismatch, verdict };
}
