/**
 * The preflight plan: which checks `steth doctor` runs against a deployment, as
 * plain steth command lines. Pure (config + options in, steps out), so the plan is
 * unit-tested without agents; run.ts executes the steps through the CLI itself, so
 * doctor reports exactly what an operator would see running each check by hand.
 */
import type { AgentEntry, Config, NetworkTypeName } from '../../src/config/types.js';

export const DOCTOR_CHECKS = ['agents', 'interfaces', 'ping', 'vlan', 'mtu', 'dhcp', 'iperf'] as const;
export type DoctorCheck = (typeof DOCTOR_CHECKS)[number];

export interface DoctorStep {
  check: DoctorCheck;
  /** what the step looks at, for the summary table */
  target: string;
  /** steth argv (without global options) */
  argv: string[];
}

export interface DoctorOptions {
  /** network types to check (default: those the agents have addresses or NICs for) */
  types?: readonly NetworkTypeName[];
  /** VLANs the tenant switch must trunk (check-vlan); none = step skipped */
  vlans?: string;
  /** Neutron port ids to run check-dhcp for */
  ports?: readonly string[];
  /** minimum bandwidth per pair (check-iperf --matrix --min); none = step skipped */
  minBandwidth?: string;
  /** iperf seconds per test */
  iperfSeconds?: number;
  skip?: ReadonlySet<DoctorCheck>;
}

const ALL_TYPES: readonly NetworkTypeName[] = ['mgmt', 'net', 'storage'];

export function planDoctor(cfg: Pick<Config, 'agents'>, opts: DoctorOptions = {}): DoctorStep[] {
  const skip = opts.skip ?? new Set<DoctorCheck>();
  const agents = cfg.agents;
  const types = opts.types ?? ALL_TYPES.filter((t) => agents.some((a) => a.addresses[t] !== undefined || a.nics[t] !== undefined));
  const steps: DoctorStep[] = [];
  const want = (c: DoctorCheck): boolean => !skip.has(c);

  if (want('agents')) steps.push({ check: 'agents', target: `${agents.length} agents`, argv: ['print-agents-info'] });

  if (want('interfaces')) {
    for (const a of agents) {
      for (const t of types) {
        const nic = a.nics[t];
        if (nic !== undefined) steps.push({ check: 'interfaces', target: `${a.name} ${t} ${nic}`, argv: ['get-interface', a.name, nic, '--require-up'] });
      }
    }
  }

  if (want('ping')) {
    for (const t of types) {
      for (const a of agents) {
        const dests = agents.filter((b) => b !== a).map((b) => b.addresses[t]).filter((x): x is string => x !== undefined);
        if (dests.length === 0 || a.addresses[t] === undefined) continue;
        steps.push({ check: 'ping', target: `${a.name} → ${t} peers`, argv: ['ping', a.name, dests.join(','), '--count', '3'] });
      }
    }
  }

  const withNet = agents.filter((a) => a.nics.net !== undefined);
  if (want('vlan') && opts.vlans !== undefined && withNet.length >= 2) {
    steps.push({ check: 'vlan', target: `VLANs ${opts.vlans} between all nodes`, argv: ['check-vlan', '--vlans', opts.vlans, '--network-type', 'net'] });
  }

  if (want('mtu')) {
    for (const [a, b] of ring(agents.filter((x) => x.addresses.net !== undefined))) {
      steps.push({ check: 'mtu', target: `${a.name} → ${b.name} net`, argv: ['check-mtu', a.name, b.name, '--network-type', 'net'] });
    }
  }

  if (want('dhcp')) {
    for (const p of opts.ports ?? []) steps.push({ check: 'dhcp', target: `port ${p}`, argv: ['check-dhcp', p] });
  }

  if (want('iperf') && opts.minBandwidth !== undefined && agents.length >= 2) {
    const argv = ['check-iperf', '--matrix', '--types', types.join(','), '--min', opts.minBandwidth];
    if (opts.iperfSeconds !== undefined) argv.push('--time', String(opts.iperfSeconds));
    steps.push({ check: 'iperf', target: `${types.join(',')} all pairs ≥ ${opts.minBandwidth}`, argv });
  }
  return steps;
}

/** Each node to its successor (a ring): every node is a sender and a receiver once. */
function ring(xs: readonly AgentEntry[]): Array<[AgentEntry, AgentEntry]> {
  if (xs.length < 2) return [];
  if (xs.length === 2) return [[xs[0]!, xs[1]!]];
  return xs.map((x, i) => [x, xs[(i + 1) % xs.length]!] as [AgentEntry, AgentEntry]);
}

export function parseChecks(list: string): Set<DoctorCheck> {
  const out = new Set<DoctorCheck>();
  for (const raw of list.split(',')) {
    const c = raw.trim();
    if (c === '') continue;
    if (!(DOCTOR_CHECKS as readonly string[]).includes(c)) throw new Error(`unknown check '${c}' (known: ${DOCTOR_CHECKS.join(', ')})`);
    out.add(c as DoctorCheck);
  }
  return out;
}
