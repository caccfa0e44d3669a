/**
 * check-mtu AGENT_A AGENT_B [--network-type T]: the largest IPv4 datagram that
 * gets from A to B's address on that network and back with DF set (binary search
 * on the agent), any ICMP fragmentation-needed seen, each NIC's configured MTU on
 * the path (interface reports), and the overlay hint (VXLAN needs 50 bytes below
 * the underlay MTU).
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { StethError } from '../../src/errors.js';
import type { CheckResult, Table } from '../../src/report/model.js';
import { assertIfName, assertNetnsName, parseIPv4 } from '../../src/validate.js';
import { ifaceGet, ifaceList, type IfaceReport } from '../iface/contract.js';
import { addressFor, agentError, agentOf, assertNetworkType, nicFor, type ProbeDeps } from '../vlan/common.js';
import { intArg } from '../vlan/check.js';
import { mtuSearch, type MtuSearchResult } from './contract.js';
import { mtuHints, OVERLAY_OVERHEAD, type NicMtu } from './search.js';

export interface MtuArgs {
  agentA: string;
  agentB: string;
  networkType?: string;
  /** measure to this address instead of B's address on the network type */
  dest?: string;
  /** run the probes inside this namespace on A (e.g. a VM's) */
  netns?: string;
  iface?: string;
  /** largest size to try (default: the MTU of A's route interface) */
  max?: number;
  attempts?: number;
  timeoutMs?: number;
  /** a VXLAN tenant network MTU to check against the underlay */
  overlayMtu?: number;
}

export async function runCheckMtu(deps: ProbeDeps, a: MtuArgs): Promise<CheckResult> {
  if (a.agentA === a.agentB) throw new StethError('EINVAL', `both agents are ${a.agentA}: check-mtu needs two different nodes`);
  const type = assertNetworkType(a.networkType ?? 'net');
  if (a.netns !== undefined) assertNetnsName(a.netns);
  if (a.iface !== undefined) assertIfName(a.iface);
  const destArg = a.dest === undefined ? undefined : parseIPv4(a.dest);
  const cfg = await deps.config();
  const A = agentOf(cfg, a.agentA);
  const B = agentOf(cfg, a.agentB);
  if (A.name === B.name) throw new StethError('EINVAL', `both agents are ${A.name}: check-mtu needs two different nodes`);
  const dest = destArg ?? addressFor(B, type);
  if (!dest) throw new StethError('ECONFIG', `no ${type} address configured for ${B.name}`, { hint: `set ${type}_address in [agent ${B.name}] or pass --dest` });
  const nicA = nicFor(cfg, A, type);
  const nicB = nicFor(cfg, B, type);

  // the search and the interface reports run concurrently
  const searchP = deps
    .client(A.name)
    .call(
      mtuSearch,
      {
        dest,
        ...(a.netns ? { netns: a.netns } : {}),
        ...(a.iface ? { iface: a.iface } : {}),
        ...(a.max ? { high: a.max } : {}),
        ...(a.attempts ? { attempts: a.attempts } : {}),
        ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
      },
      { signal: deps.signal },
    )
    .catch((e: unknown) => {
      throw agentError(A.name, 'MTU search', e);
    });
  const reportP = async (agent: string, iface: string | undefined): Promise<IfaceReport | string | undefined> => {
    if (!iface) return undefined;
    try {
      return await deps.client(agent).call(ifaceGet, { name: iface }, { signal: deps.signal });
    } catch (e) {
      return agentError(agent, iface, e).message;
    }
  };
  const holderP = (async (): Promise<IfaceReport | undefined> => {
    if (destArg !== undefined) return undefined;
    try {
      const l = await deps.client(B.name).call(ifaceList, {}, { signal: deps.signal });
      return l.interfaces.find((i) => i.addresses.some((x) => x.family === 'inet' && x.address === dest));
    } catch {
      return undefined;
    }
  })();
  const [search, repA, repB, holder] = await Promise.all([searchP, a.netns ? Promise.resolve(undefined) : reportP(A.name, nicA), a.netns ? Promise.resolve(undefined) : reportP(B.name, nicB), holderP]);
  const routeRep = search.routeIface && search.routeIface !== nicA && !a.netns ? await reportP(A.name, search.routeIface) : undefined;

  const nics: Array<NicMtu & { role: string; note?: string }> = [];
  const add = (node: string, iface: string | undefined | null, rep: IfaceReport | string | undefined, role: string): void => {
    if (!iface) return;
    if (nics.some((n) => n.node === node && n.iface === iface)) return;
    if (typeof rep === 'string') nics.push({ node, iface, mtu: undefined, role, note: rep });
    else nics.push({ node, iface, mtu: rep?.mtu, role });
  };
  if (a.netns) add(A.name, `${a.netns}/${search.routeIface ?? '?'}`, search.routeIfaceMtu === null ? undefined : ({ mtu: search.routeIfaceMtu } as IfaceReport), 'route interface (namespace)');
  else {
    add(A.name, search.routeIface, routeRep ?? (search.routeIface === nicA ? repA : undefined) ?? (search.routeIfaceMtu === null ? undefined : ({ mtu: search.routeIfaceMtu } as IfaceReport)), 'route interface');
    add(A.name, nicA, repA, `${type} NIC`);
    add(B.name, nicB, repB, `${type} NIC`);
    if (holder) add(B.name, holder.name, holder, `holds ${dest}`);
  }
  return mtuResult(A.name, B.name, dest, search, nics, a.overlayMtu);
}

export function mtuResult(a: string, b: string, dest: string, s: MtuSearchResult, nics: Array<NicMtu & { role: string; note?: string }>, overlayMtu?: number): CheckResult {
  const hints = mtuHints(s.pathMtu ?? undefined, nics, overlayMtu);
  const known = nics.filter((n) => n.mtu !== undefined).map((n) => n.mtu!);
  const maxCfg = known.length ? Math.max(...known) : undefined;
  const ok = s.reachable && s.pathMtu !== null && (maxCfg === undefined || s.pathMtu >= maxCfg) && !hints.some((h) => h.level === 'warn');
  const tables: Table[] = [
    {
      title: `path MTU ${a} → ${b} (${dest})`,
      columns: ['Field', 'Value'],
      rows: [
        { Field: 'path MTU (largest DF datagram that passed)', Value: s.pathMtu },
        { Field: 'largest ICMP payload (ping -s)', Value: s.pathMtu === null ? null : s.pathMtu - 28 },
        { Field: 'first size that failed', Value: s.firstFailing },
        { Field: 'frag-needed', Value: s.fragNeeded ? `from ${s.fragNeeded.from ?? '?'}${s.fragNeeded.nextHopMtu ? `, next-hop MTU ${s.fragNeeded.nextHopMtu}` : ''} (at ${s.fragNeeded.size})` : 'none seen' },
        { Field: 'local limit (EMSGSIZE)', Value: s.localLimit },
        { Field: 'sizes tried', Value: `${s.low}..${s.high}, ${s.probes.length} probes, ${s.elapsedMs} ms` },
        { Field: `VXLAN tenant MTU this path carries`, Value: s.pathMtu === null ? null : s.pathMtu - OVERLAY_OVERHEAD.vxlan },
      ],
    },
    { title: 'configured MTUs on the path', columns: ['Node', 'Interface', 'Role', 'MTU'], rows: nics.map((n) => ({ Node: n.node, Interface: n.iface, Role: n.role, MTU: n.mtu ?? n.note ?? null })) },
  ];
  let verdict: string;
  if (!s.reachable) verdict = `${dest} does not answer ${a} even at ${s.low} bytes: no path MTU`;
  else {
    verdict = `path MTU ${a} → ${b} (${dest}) is ${s.pathMtu}`;
    if (s.fragNeeded) verdict += `; frag-needed from ${s.fragNeeded.from ?? '?'}${s.fragNeeded.nextHopMtu ? ` (next-hop MTU ${s.fragNeeded.nextHopMtu})` : ''}`;
    const warns = hints.filter((h) => h.level === 'warn').map((h) => h.text);
    if (warns.length) verdict += `; ${warns.join('; ')}`;
    else verdict += `; VXLAN over it carries ≤ ${s.pathMtu! - OVERLAY_OVERHEAD.vxlan}`;
  }
  return { command: 'check-mtu', ok, verdict, tables, data: { from: a, to: b, dest, search: s, nics, hints } };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-mtu')
    .description('Path MTU from AGENT_A to AGENT_B on a network type: DF-set probes with binary search, frag-needed, configured NIC MTUs, overlay hint')
    .argument('<agent_a>', 'node that probes')
    .argument('<agent_b>', 'node probed (its address on the network type)')
    .option('--network-type <type>', 'mgmt, net or storage', 'net')
    .option('--dest <ip>', 'probe this address instead of AGENT_B\'s on the network type')
    .option('--netns <name>', 'probe from inside this namespace on AGENT_A (e.g. a VM\'s)')
    .option('--interface <name>', 'source interface on AGENT_A')
    .option('--max <bytes>', 'largest datagram to try (default: the MTU of the route\'s interface)', intArg('max', 68, 65535))
    .option('--overlay-mtu <bytes>', 'check a VXLAN tenant network MTU against this path', intArg('overlay MTU', 68, 65535))
    .option('--attempts <n>', 'tries per size before silence counts as too big', intArg('attempts', 1, 10), 2)
    .option('--wait <ms>', 'wait per echo (ms)', intArg('wait', 10, 10000), 300)
    .addHelpText('after', '\nExamples:\n  steth check-mtu compute-1 compute-2\n  steth check-mtu compute-1 network-1 --network-type storage --overlay-mtu 1450\n')
    .action(async (agentA, agentB, opts) => {
      const a: MtuArgs = { agentA, agentB, networkType: opts.networkType, attempts: opts.attempts, timeoutMs: opts.wait };
      if (opts.dest !== undefined) a.dest = opts.dest;
      if (opts.netns !== undefined) a.netns = opts.netns;
      if (opts.interface !== undefined) a.iface = opts.interface;
      if (opts.max !== undefined) a.max = opts.max;
      if (opts.overlayMtu !== undefined) a.overlayMtu = opts.overlayMtu;
      ctx.out.emit(await runCheckMtu(ctx, a));
    });
}
