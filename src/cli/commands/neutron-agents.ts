/**
 * The Neutron half of print-agents-info: Neutron's own agent list (host, type,
 * binary, alive, admin_state_up) beside the configured steth agents, when OpenStack
 * credentials are present.
 *
 * - `listNeutronAgents` loads src/openstack only when it is called (the command
 *   calls it only when credentials can exist) and never rejects: a failure
 *   (unusable credentials, Keystone or Neutron down, 401/403, a timeout) comes back
 *   as `{error}` so the steth-agent table still prints.
 * - `neutronAgentsPart` is pure: it matches Neutron hosts to steth agents (configured
 *   name, or the node name / hostname the agent reported, also by short name) and
 *   builds the table, the notes, the verdict clause and the exit code.
 *
 * Exit codes: an enabled Neutron agent that is not alive is a fault (1). The list
 * not obtained is 4 like an unreachable agent (Keystone/Neutron unreachable, timed
 * out, refused the credentials, answered an error), 2 when the credentials
 * themselves are unusable (a configuration error: unknown cloud, no auth_url), 130
 * when interrupted. Hosts without a steth agent and steth agents Neutron does not
 * know are notes, not faults.
 */
import type { Config } from '../../config/types.js';
import type { NeutronAgentRow } from '../../openstack/agents.js';
import { StethError } from '../../errors.js';
import { EXIT, type Table } from '../../report/model.js';
import type { CliContext } from '../context.js';
import { describeError, type ErrorInfo } from '../errors.js';

export type NeutronAgentsOutcome =
  | { source: string; rows: NeutronAgentRow[] }
  | { source: string | null; error: ErrorInfo };

/** A steth agent as print-agents-info knows it: configured name, and what it reported when it answered. */
export interface StethAgentIdentity {
  name: string;
  nodeName?: string | null;
  hostname?: string | null;
}

export interface NeutronAgentWithSteth extends NeutronAgentRow {
  /** the configured steth agent on this host, or null */
  stethAgent: string | null;
}

export interface NeutronAgentsPart {
  ok: boolean;
  /** set when the part alone decides an exit code other than ok ? 0 : 1 */
  exitCode: number;
  /** clause appended to the command's verdict */
  verdict: string;
  table?: Table;
  notes: string[];
  data: {
    source: string | null;
    agents: NeutronAgentWithSteth[];
    notes: string[];
    error?: { code: string; message: string; hint?: string };
  };
}

/** Neutron's agent list with the configured credentials; undefined when there are none. */
export async function listNeutronAgents(ctx: Pick<CliContext, 'env' | 'signal'>, cfg: Pick<Config, 'neutron' | 'timeoutMs'>): Promise<NeutronAgentsOutcome | undefined> {
  const os = await import('../../openstack/index.js');
  let neutron;
  try {
    neutron = os.neutronFromSources({ env: ctx.env, ...(cfg.neutron ? { neutronConfig: cfg.neutron } : {}) }, { timeoutMs: cfg.timeoutMs });
  } catch (e) {
    return { source: null, error: describeError(e) };
  }
  if (!neutron) return undefined;
  const source = neutron.session.credentials.source;
  // one deadline for Keystone + Neutron together: the per-agent --timeout / timeout of steth.conf
  const deadline = AbortSignal.timeout(cfg.timeoutMs);
  try {
    return { source, rows: await os.neutronAgentRows(neutron, AbortSignal.any([ctx.signal, deadline])) };
  } catch (e) {
    const err = deadline.aborted && !ctx.signal.aborted
      ? new StethError('ETIMEDOUT', `Keystone and Neutron did not list the agents within ${cfg.timeoutMs / 1000} s`, { hint: 'is the API reachable from here? (--timeout raises the deadline)' })
      : e;
    return { source, error: describeError(err) };
  }
}

const lower = (s: string): string => s.trim().toLowerCase();
const short = (s: string): string => lower(s).split('.')[0]!;

/** The steth agent running on a Neutron host: exact name first, then by short name (FQDN vs. short hostname). */
export function stethAgentFor(host: string, steth: readonly StethAgentIdentity[]): string | null {
  const names = (a: StethAgentIdentity): string[] => [a.name, a.nodeName, a.hostname].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  const exact = steth.find((a) => names(a).some((n) => lower(n) === lower(host)));
  if (exact) return exact.name;
  return steth.find((a) => names(a).some((n) => short(n) === short(host)))?.name ?? null;
}

const isOvs = (r: NeutronAgentRow): boolean => r.type === 'Open vSwitch agent' || r.binary === 'neutron-openvswitch-agent';

export function neutronAgentsPart(outcome: NeutronAgentsOutcome, steth: readonly StethAgentIdentity[]): NeutronAgentsPart {
  if ('error' in outcome) {
    const e = outcome.error;
    const notes = [`Neutron agent list unavailable: ${e.message}${e.hint ? ` (${e.hint})` : ''}`];
    const exitCode = e.code === 'ECONFIG' ? EXIT.USAGE : e.exitCode === EXIT.SIGINT ? EXIT.SIGINT : EXIT.AGENT;
    const error: { code: string; message: string; hint?: string } = { code: e.code, message: e.message };
    if (e.hint !== undefined) error.hint = e.hint;
    return {
      ok: false,
      exitCode,
      verdict: `Neutron agent list unavailable: ${e.message}`,
      notes,
      data: { source: outcome.source, agents: [], notes, error },
    };
  }
  const agents: NeutronAgentWithSteth[] = outcome.rows.map((r) => ({ ...r, stethAgent: stethAgentFor(r.host, steth) }));
  const notes: string[] = [];
  const uncovered = [...new Set(agents.filter((a) => isOvs(a) && a.stethAgent === null).map((a) => a.host))];
  for (const h of uncovered) notes.push(`${h} runs an Open vSwitch agent but has no steth agent configured`);
  if (agents.length > 0) {
    const known = new Set(agents.map((a) => a.stethAgent).filter((x): x is string => x !== null));
    for (const s of steth) {
      if (known.has(s.name)) continue;
      const also = [s.nodeName, s.hostname].filter((x, i, xs): x is string => typeof x === 'string' && x !== s.name && xs.indexOf(x) === i);
      notes.push(`steth agent ${s.name}${also.length ? ` (${also.join(', ')})` : ''}: Neutron has no agent on this host`);
    }
  }
  // a disabled agent that stopped reporting is the operator's choice; an enabled one is a fault
  const dead = agents.filter((a) => !a.alive && a.adminStateUp !== false);
  const alive = agents.filter((a) => a.alive).length;
  const verdict = agents.length === 0
    ? 'Neutron lists no agents'
    : dead.length > 0
      ? `Neutron: ${dead.length} of ${agents.length} agents not alive: ${dead.map((d) => `${d.type} on ${d.host}`).join(', ')}`
      : alive === agents.length
        ? `Neutron: all ${agents.length} agents alive`
        : `Neutron: ${alive} of ${agents.length} agents alive (the others are disabled)`;
  const table: Table = {
    title: `Neutron agents (${outcome.source})`,
    columns: ['host', 'type', 'binary', 'alive', 'admin_state_up', 'steth_agent'],
    rows: agents.map((a) => ({
      host: a.host,
      type: a.type,
      binary: a.binary,
      alive: a.alive,
      admin_state_up: a.adminStateUp,
      steth_agent: a.stethAgent,
    })),
  };
  const ok = dead.length === 0;
  return { ok, exitCode: ok ? EXIT.OK : EXIT.FAULT, verdict, table, notes, data: { source: outcome.source, agents, notes } };
}

/** The worse of two exit codes, in the order steth ranks them (130 > 4 > 3 > 2 > 1 > 0). */
export function worseExit(a: number, b: number): number {
  const rank = (c: number): number => [0, 1, 2, 3, 4, 130].indexOf(c);
  return rank(b) > rank(a) ? b : a;
}
