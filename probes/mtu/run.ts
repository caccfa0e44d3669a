/** What check-mtu runs (probes/mtu/check.ts declares it and loads this on use). */
import { StethError } from '../../src/errors.js';
import type { CheckResult, Table } from '../../src/report/model.js';
import { assertIfName, assertNetnsName, parseIPv4 } from '../../src/validate.js';
import { ifaceGet, ifaceList, type IfaceReport } from '../iface/contract.js';
import { addressFor, agentError, agentOf, assertNetworkType, nicFor, type ProbeDeps } from '../vlan/common.js';
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

  // both directions (when A has an address too) and the interface reports run
  // concurrently: a round trip only proves the request's path, and a receiving
  // NIC may accept a few bytes above its MTU (veth allows a VLAN tag's worth),
  // so the smaller of the two directions is the path MTU
  const search = (from: string, to: string, d: string, withNs: boolean): Promise<MtuSearchResult> =>
    deps
      .client(from)
      .call(
        mtuSearch,
        {
          dest: d,
          ...(withNs && a.netns ? { netns: a.netns } : {}),
          ...(withNs && a.iface ? { iface: a.iface } : {}),
          ...(a.max ? { high: a.max } : {}),
          ...(a.attempts ? { attempts: a.attempts } : {}),
          ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
        },
        { signal: deps.signal },
      )
      .catch((e: unknown) => {
        throw agentError(from, `MTU search towards ${to}`, e);
      });
  const back = destArg === undefined && a.netns === undefined && a.iface === undefined ? addressFor(A, type) : undefined;
  const reportP = async (agent: string, iface: string | undefined): Promise<IfaceReport | string | undefined> => {
    if (!iface) return undefined;
    try {
      return await deps.client(agent).call(ifaceGet, { name: iface }, { signal: deps.signal });
    } catch (e) {
      return agentError(agent, iface, e).message;
    }
  };
  const holderOf = async (agent: string, addr: string | undefined): Promise<IfaceReport | undefined> => {
    if (addr === undefined) return undefined;
    try {
      const l = await deps.client(agent).call(ifaceList, {}, { signal: deps.signal });
      return l.interfaces.find((i) => i.addresses.some((x) => x.family === 'inet' && x.address === addr));
    } catch {
      return undefined;
    }
  };
  const [fwd, rev, repA, repB, holderB, holderA] = await Promise.all([
    search(A.name, B.name, dest, true),
    back === undefined ? Promise.resolve(undefined) : search(B.name, A.name, back, false),
    a.netns ? Promise.resolve(undefined) : reportP(A.name, nicA),
    a.netns ? Promise.resolve(undefined) : reportP(B.name, nicB),
    destArg === undefined ? holderOf(B.name, dest) : Promise.resolve(undefined),
    back === undefined ? Promise.resolve(undefined) : holderOf(A.name, back),
  ]);

  const nics: Array<NicMtu & { role: string; note?: string }> = [];
  const add = (node: string, iface: string | undefined | null, rep: IfaceReport | string | undefined, role: string): void => {
    if (!iface) return;
    if (nics.some((n) => n.node === node && n.iface === iface)) return;
    if (typeof rep === 'string') nics.push({ node, iface, mtu: undefined, role, note: rep });
    else nics.push({ node, iface, mtu: rep?.mtu, role });
  };
  const routeMtu = (r: MtuSearchResult): IfaceReport | undefined => (r.routeIfaceMtu === null ? undefined : ({ mtu: r.routeIfaceMtu } as IfaceReport));
  if (a.netns) add(A.name, `${a.netns}/${fwd.routeIface ?? '?'}`, routeMtu(fwd), 'route interface (namespace)');
  else {
    add(A.name, fwd.routeIface, holderA?.name === fwd.routeIface ? holderA : routeMtu(fwd), 'route interface');
    add(A.name, nicA, repA, `${type} NIC`);
    add(B.name, nicB, repB, `${type} NIC`);
    if (holderB) add(B.name, holderB.name, holderB, `holds ${dest}`);
    if (rev) add(B.name, rev.routeIface, routeMtu(rev), 'route interface');
  }
  const dirs: MtuDirection[] = [{ from: A.name, to: B.name, dest, search: fwd }];
  if (rev && back) dirs.push({ from: B.name, to: A.name, dest: back, search: rev });
  return mtuResult(dirs, nics, a.overlayMtu);
}

export interface MtuDirection {
  from: string;
  to: string;
  dest: string;
  search: MtuSearchResult;
}

export function mtuResult(dirs: MtuDirection[], nics: Array<NicMtu & { role: string; note?: string }>, overlayMtu?: number): CheckResult {
  const first = dirs[0]!;
  const reachable = dirs.every((d) => d.search.reachable);
  const figures = dirs.map((d) => d.search.pathMtu).filter((x): x is number => x !== null);
  const pathMtu = reachable && figures.length === dirs.length ? Math.min(...figures) : undefined;
  const hints = mtuHints(pathMtu, nics, overlayMtu);
  const known = nics.filter((n) => n.mtu !== undefined).map((n) => n.mtu!);
  const maxCfg = known.length ? Math.max(...known) : undefined;
  const ok = pathMtu !== undefined && (maxCfg === undefined || pathMtu >= maxCfg) && !hints.some((h) => h.level === 'warn');
  const frag = dirs.map((d) => d.search.fragNeeded).find((f) => f !== null) ?? null;
  const rows = dirs.map((d) => {
    const s = d.search;
    return {
      Direction: `${d.from} → ${d.to} (${d.dest})`,
      'Path MTU': s.pathMtu,
      'ICMP payload': s.pathMtu === null ? null : s.pathMtu - 28,
      'First failing': s.firstFailing,
      'Frag-needed': s.fragNeeded ? `from ${s.fragNeeded.from ?? '?'}${s.fragNeeded.nextHopMtu ? `, next-hop MTU ${s.fragNeeded.nextHopMtu}` : ''}` : 'none',
      'Local limit': s.localLimit,
      Probes: `${s.probes.length} (${s.low}..${s.high}), ${s.elapsedMs} ms`,
    };
  });
  const tables: Table[] = [
    { title: 'path MTU (largest DF datagram that passed)', columns: ['Direction', 'Path MTU', 'ICMP payload', 'First failing', 'Frag-needed', 'Local limit', 'Probes'], rows },
    { title: 'configured MTUs on the path', columns: ['Node', 'Interface', 'Role', 'MTU'], rows: nics.map((n) => ({ Node: n.node, Interface: n.iface, Role: n.role, MTU: n.mtu ?? n.note ?? null })) },
    { title: 'hints', columns: ['Level', 'Hint'], rows: hints.map((h) => ({ Level: h.level, Hint: h.text })) },
  ];
  let verdict: string;
  const between = dirs.length === 2 ? `between ${first.from} and ${first.to}` : `${first.from} → ${first.to} (${first.dest})`;
  if (!reachable) {
    const dead = dirs.filter((d) => !d.search.reachable).map((d) => `${d.dest} does not answer ${d.from} even at ${d.search.low} bytes`);
    verdict = `${dead.join('; ')}: no path MTU`;
  } else {
    verdict = `path MTU ${between} is ${pathMtu}`;
    if (dirs.length === 2 && figures[0] !== figures[1]) verdict += ` (${dirs.map((d) => `${d.from} → ${d.to}: ${d.search.pathMtu}`).join(', ')})`;
    if (frag) verdict += `; frag-needed from ${frag.from ?? '?'}${frag.nextHopMtu ? ` (next-hop MTU ${frag.nextHopMtu})` : ''}`;
    const warns = hints.filter((h) => h.level === 'warn').map((h) => h.text);
    if (warns.length) verdict += `; ${warns.join('; ')}`;
    else verdict += `; VXLAN over it carries ≤ ${pathMtu! - OVERLAY_OVERHEAD.vxlan}`;
  }
  return {
    command: 'check-mtu',
    ok,
    verdict,
    tables,
    data: { pathMtu: pathMtu ?? null, vxlanTenantMtu: pathMtu === undefined ? null : pathMtu - OVERLAY_OVERHEAD.vxlan, directions: dirs, nics, hints },
  };
}
