/** What check-arp runs (probes/arp/check.ts declares it and loads this on use). */
import { StethError } from '../../src/errors.js';
import type { CheckResult } from '../../src/report/model.js';
import { assertIfName, assertNetnsName, assertVlanId, parseIPv4 } from '../../src/validate.js';
import { agentError, agentOf, type ProbeDeps } from '../vlan/common.js';
import { analyzeArp } from './analysis.js';
import { arpProbe } from './contract.js';

export interface ArpArgs {
  agent: string;
  targetIp: string;
  /** "100" or "300.100" (outer.inner) */
  vlan?: string;
  iface?: string;
  netns?: string;
  senderIp?: string;
  count?: number;
  waitMs?: number;
}

export function parseVlanStack(spec: string): number[] {
  const parts = spec.split('.');
  if (parts.length > 2 || parts.some((p) => !/^\d+$/.test(p))) throw new StethError('EINVAL', `'${spec}' is not a VLAN id or OUTER.INNER pair`);
  return parts.map((p) => assertVlanId(p));
}

export async function runCheckArp(deps: ProbeDeps, a: ArpArgs): Promise<CheckResult> {
  const targetIp = parseIPv4(a.targetIp);
  const vlans = a.vlan === undefined ? [] : parseVlanStack(a.vlan);
  if (a.iface !== undefined) assertIfName(a.iface);
  if (a.netns !== undefined) assertNetnsName(a.netns);
  const senderIp = a.senderIp === undefined ? undefined : parseIPv4(a.senderIp);
  const cfg = await deps.config();
  const agent = agentOf(cfg, a.agent);
  let r;
  try {
    r = await deps.client(agent.name).call(
      arpProbe,
      {
        targetIp,
        vlans,
        ...(a.iface ? { iface: a.iface } : {}),
        ...(a.netns ? { netns: a.netns } : {}),
        ...(senderIp ? { senderIp } : {}),
        ...(a.count ? { count: a.count } : {}),
        ...(a.waitMs ? { waitMs: a.waitMs } : {}),
      },
      { signal: deps.signal },
    );
  } catch (e) {
    throw agentError(agent.name, 'ARP probe', e);
  }
  const where = `${agent.name}:${r.netns ? `${r.netns}/` : ''}${r.iface}${vlans.length ? ` VLAN ${vlans.join('.')}` : ''}`;
  if (r.linkDown) {
    return {
      command: 'check-arp',
      ok: false,
      verdict: `${where} is down: no ARP request sent, no answer possible`,
      tables: [{ title: `ARP who-has ${targetIp}`, columns: ['Replier MAC', 'Replies', 'First reply ms', 'Ethernet source', 'VLANs'], rows: [] }],
      data: { ...r, analysis: { answered: false, duplicate: false, repliers: [] } },
    };
  }
  const an = analyzeArp(
    targetIp,
    BigInt(r.sentNs),
    r.replies.map((x) => ({ ...x, tsNs: BigInt(x.tsNs) })),
    r.senderMac,
  );
  const rows = an.repliers.map((x) => ({
    'Replier MAC': x.mac,
    Replies: x.replies,
    'First reply ms': x.firstReplyMs ?? null,
    'Ethernet source': x.ethSrc.join(', '),
    VLANs: x.vlans.map((v) => (v.length ? v.join('.') : 'untagged')).join(', '),
  }));
  const verdict = `${an.verdict} (asked from ${where} as ${r.senderIp}, ${r.sent} request${r.sent === 1 ? '' : 's'})${an.ethMismatch ? '; a reply\'s Ethernet source differs from its ARP sender (proxy ARP?)' : ''}`;
  return {
    command: 'check-arp',
    ok: an.answered && !an.duplicate,
    verdict,
    tables: [{ title: `ARP who-has ${targetIp}`, columns: ['Replier MAC', 'Replies', 'First reply ms', 'Ethernet source', 'VLANs'], rows }],
    data: { ...r, analysis: an },
  };
}
