/**
 * Ping statistics and ICMP error descriptions (pure).
 * Figures match iputils ping: loss over sent, rtt min/avg/max and mdev, where
 * mdev = sqrt(mean(rtt²) − mean(rtt)²) (the population standard deviation).
 */

export interface PingStats {
  sent: number;
  received: number;
  /** 0..100, one decimal */
  lossPct: number;
  /** replies beyond the first for one sequence number */
  duplicates: number;
  /** ms, three decimals; undefined when nothing came back */
  rtt: { min: number; avg: number; max: number; mdev: number } | undefined;
}

export function pingStats(sent: number, rttsMs: readonly number[], duplicates = 0): PingStats {
  const received = rttsMs.length;
  const lossPct = sent === 0 ? 0 : Math.round(((sent - Math.min(sent, received)) / sent) * 1000) / 10;
  if (received === 0) return { sent, received, lossPct, duplicates, rtt: undefined };
  let sum = 0;
  let sum2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const r of rttsMs) {
    sum += r;
    sum2 += r * r;
    if (r < min) min = r;
    if (r > max) max = r;
  }
  const avg = sum / received;
  const mdev = Math.sqrt(Math.max(0, sum2 / received - avg * avg));
  return { sent, received, lossPct, duplicates, rtt: { min: r3(min), avg: r3(avg), max: r3(max), mdev: r3(mdev) } };
}

function r3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export type IcmpErrorKind = 'unreachable' | 'frag-needed' | 'time-exceeded' | 'redirect' | 'source-quench' | 'parameter-problem' | 'other';

export interface IcmpErrorInfo {
  kind: IcmpErrorKind;
  type: number;
  code: number;
  /** router (or host) that sent the error */
  from: string;
  /** next-hop MTU of a fragmentation-needed (RFC 1191) */
  nextHopMtu?: number;
  text: string;
}

const UNREACH: Record<number, string> = {
  0: 'network unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed and DF set',
  5: 'source route failed',
  6: 'destination network unknown',
  7: 'destination host unknown',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  11: 'network unreachable for TOS',
  12: 'host unreachable for TOS',
  13: 'communication administratively prohibited',
  14: 'host precedence violation',
  15: 'precedence cutoff in effect',
};

/** Describe an ICMP error message (types 3, 4, 5, 11, 12). `rest` = bytes 4..7 of the ICMP header. */
export function describeIcmpError(type: number, code: number, from: string, nextHopMtu?: number): IcmpErrorInfo {
  switch (type) {
    case 3: {
      if (code === 4) {
        const info: IcmpErrorInfo = { kind: 'frag-needed', type, code, from, text: `frag needed and DF set (from ${from}${nextHopMtu ? `, next-hop MTU ${nextHopMtu}` : ''})` };
        if (nextHopMtu) info.nextHopMtu = nextHopMtu;
        return info;
      }
      return { kind: 'unreachable', type, code, from, text: `destination unreachable: ${UNREACH[code] ?? `code ${code}`} (from ${from})` };
    }
    case 11:
      return { kind: 'time-exceeded', type, code, from, text: `time exceeded: ${code === 0 ? 'TTL expired in transit' : code === 1 ? 'fragment reassembly time exceeded' : `code ${code}`} (from ${from})` };
    case 5:
      return { kind: 'redirect', type, code, from, text: `redirect (code ${code}) from ${from}` };
    case 4:
      return { kind: 'source-quench', type, code, from, text: `source quench from ${from}` };
    case 12:
      return { kind: 'parameter-problem', type, code, from, text: `parameter problem (code ${code}) from ${from}` };
    default:
      return { kind: 'other', type, code, from, text: `ICMP type ${type} code ${code} from ${from}` };
  }
}
