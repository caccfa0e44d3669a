/**
 * check-arp AGENT TARGET_IP [--vlan N[.M]] [--iface I] [--netns NS]: an ARP
 * who-has crafted at L2 on the agent (optionally tagged, optionally inside a
 * qdhcp-/qrouter- namespace); who answered, with which MAC, how fast; two MACs
 * for one IP are flagged as a duplicate address.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { StethError } from '../../src/errors.js';
import type { CheckResult } from '../../src/report/model.js';
import { assertIfName, assertNetnsName, assertVlanId, parseIPv4 } from '../../src/validate.js';
import { agentError, agentOf, type ProbeDeps } from '../vlan/common.js';
import { intArg } from '../vlan/check.js';
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

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-arp')
    .description('Send an ARP who-has for TARGET_IP from AGENT at L2 (optionally tagged, optionally in a namespace); report who answers and flag duplicate answers')
    .argument('<agent>', 'node to ask from')
    .argument('<target_ip>', 'IPv4 address to resolve')
    .option('--vlan <id>', 'tag the request: VLAN id, or OUTER.INNER for QinQ')
    .option('--iface <name>', 'interface to send on (default: the route to TARGET_IP)')
    .option('--netns <name>', 'namespace to send from (qdhcp-…, qrouter-…)')
    .option('--sender-ip <ip>', 'ARP sender address (default: the interface\'s; 0.0.0.0 when it has none)')
    .option('--count <n>', 'requests to send', intArg('count', 1, 100), 2)
    .option('--wait <ms>', 'listen at most this long (ms)', intArg('wait', 10, 60000), 1000)
    .addHelpText('after', '\nExamples:\n  steth check-arp compute-1 10.1.0.5\n  steth check-arp network-1 10.0.0.3 --netns qdhcp-2f4c…\n  steth check-arp compute-1 10.1.0.5 --iface eth1 --vlan 100\n')
    .action(async (agent, targetIp, opts) => {
      const a: ArpArgs = { agent, targetIp, count: opts.count, waitMs: opts.wait };
      if (opts.vlan !== undefined) a.vlan = opts.vlan;
      if (opts.iface !== undefined) a.iface = opts.iface;
      if (opts.netns !== undefined) a.netns = opts.netns;
      if (opts.senderIp !== undefined) a.senderIp = opts.senderIp;
      ctx.out.emit(await runCheckArp(ctx, a));
    });
}
