/** What `ping` runs (probes/icmp/check.ts declares it and loads this on use). */
import { StethError } from '../../src/errors.js';
import type { CheckResult } from '../../src/report/model.js';
import { assertIfName, assertNetnsName, parseIPv4 } from '../../src/validate.js';
import { agentError, agentOf, type ProbeDeps } from '../vlan/common.js';
import { icmpPing, type PingResultWire } from './contract.js';

export interface PingArgs {
  agent: string;
  /** comma-separated list (original form) or an array */
  dests: string | string[];
  count?: number;
  /** seconds to wait for the last reply (original --timeout) */
  timeoutS?: number;
  intervalMs?: number;
  iface?: string;
  source?: string;
  netns?: string;
  df?: boolean;
  /** ICMP data bytes (ping -s) */
  size?: number;
  ttl?: number;
}

export function parseDests(d: string | string[]): string[] {
  const list = (Array.isArray(d) ? d : d.split(',')).map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new StethError('EINVAL', 'no destination given');
  return [...new Set(list.map((x) => parseIPv4(x)))];
}

export async function runPing(deps: ProbeDeps, a: PingArgs): Promise<CheckResult> {
  const dests = parseDests(a.dests);
  if (a.iface !== undefined) assertIfName(a.iface);
  if (a.netns !== undefined) assertNetnsName(a.netns);
  const source = a.source === undefined ? undefined : parseIPv4(a.source);
  const count = a.count ?? 3;
  const intervalMs = a.intervalMs ?? 200;
  const timeoutMs = Math.round((a.timeoutS ?? 1) * 1000);
  const size = a.size ?? 56;
  if (!Number.isInteger(size) || size < 0 || size > 65507) throw new StethError('EINVAL', `size ${size} is out of range 0..65507`);
  const cfg = await deps.config();
  const agent = agentOf(cfg, a.agent);
  let res;
  try {
    res = await deps.client(agent.name).call(
      icmpPing,
      {
        dests, count, intervalMs, timeoutMs, size, df: a.df ?? false,
        ...(a.ttl !== undefined ? { ttl: a.ttl } : {}),
        ...(a.iface ? { iface: a.iface } : {}),
        ...(source ? { source } : {}),
        ...(a.netns ? { netns: a.netns } : {}),
      },
      { signal: deps.signal, timeoutMs: count * intervalMs + timeoutMs + 15_000 },
    );
  } catch (e) {
    throw agentError(agent.name, 'ping', e);
  }
  return pingResult(agent.name, res.results, { df: a.df ?? false, size });
}

export function pingResult(agent: string, results: PingResultWire[], o: { df: boolean; size: number }): CheckResult {
  const rows = results.map((r) => ({
    Destination: r.dest,
    Status: r.status,
    Sent: r.sent,
    Received: r.received,
    'Loss %': r.lossPct,
    'rtt min/avg/max/mdev ms': r.rtt ? `${r.rtt.min}/${r.rtt.avg}/${r.rtt.max}/${r.rtt.mdev}` : null,
    'ICMP errors': [...r.errors.map((e) => (e.count > 1 ? `${e.text} ×${e.count}` : e.text)), ...r.sendErrors.map((e) => `${e.code}: ${e.message}`)].join('; ') || null,
  }));
  const ok = results.every((r) => r.status === 'ok');
  const bad = results.filter((r) => r.status !== 'ok');
  const describe = (r: PingResultWire): string => {
    if (r.status === 'partial') return `${r.dest}: ${r.lossPct}% loss`;
    if (r.status === 'local-mtu') return `${r.dest}: ${r.ipSize}-byte datagram exceeds the local interface MTU`;
    const e = r.errors[0];
    if (e) return `${r.dest}: ${e.text}`;
    return `${r.dest}: no reply`;
  };
  const what = `${o.size + 28}-byte datagrams${o.df ? ' with DF' : ''}`;
  const verdict = ok ? `all ${results.length} destination${results.length === 1 ? '' : 's'} answered ${agent} (${what})` : `${agent}: ${bad.map(describe).join('; ')}`;
  return {
    command: 'ping',
    ok,
    verdict,
    tables: [{ title: `ping from ${agent}`, columns: ['Destination', 'Status', 'Sent', 'Received', 'Loss %', 'rtt min/avg/max/mdev ms', 'ICMP errors'], rows }],
    data: { agent, results },
  };
}
