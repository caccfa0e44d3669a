/**
 * How an agent method is declared: once, with its name and run-time schemas for
 * params and result. The declaration (MethodSpec) is shared by the agent, which
 * validates params before the handler runs, and the CLI, whose client validates
 * results. A probe keeps its specs in probes/NAME/contract.ts, its handlers in
 * probes/NAME/node.ts (`implement(spec, handler)`), and the agent registers them
 * from the explicit list in agent/methods.ts.
 */
import type { z } from 'zod';

export interface MethodSpec<P extends z.ZodTypeAny = z.ZodTypeAny, R extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly name: string;
  readonly params: P;
  readonly result: R;
  readonly summary: string;
  /** deadline when the caller gives none (ms) */
  readonly defaultTimeoutMs?: number;
}

export function declare<P extends z.ZodTypeAny, R extends z.ZodTypeAny>(
  name: string,
  params: P,
  result: R,
  summary: string,
  defaultTimeoutMs?: number,
): MethodSpec<P, R> {
  return defaultTimeoutMs === undefined ? { name, params, result, summary } : { name, params, result, summary, defaultTimeoutMs };
}

/** What a handler gets besides its params. Implemented by agent/. */
export interface AgentContext {
  /** aborted on deadline, on $/cancelRequest and on agent shutdown */
  readonly signal: AbortSignal;
  /** node name this agent reports (config or hostname) */
  readonly nodeName: string;
  /** OVSDB remote for ovs-vsctl --db=..., undefined = the system default */
  readonly ovsdb: string | undefined;
  /** records host changes with a TTL so they are undone even if the CLI dies */
  readonly ledger: LedgerApi;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** A serialisable description of how to undo one host change (survives a crash). */
export type UndoAction =
  | { readonly type: 'kill'; readonly pid: number; readonly startTime?: string; readonly comm?: string }
  | { readonly type: 'link-del'; readonly iface: string; readonly netns?: string }
  | { readonly type: 'addr-del'; readonly iface: string; readonly cidr: string; readonly netns?: string }
  | { readonly type: 'link-set'; readonly iface: string; readonly state: 'up' | 'down'; readonly netns?: string }
  | { readonly type: 'none' };

export interface LedgerApi {
  /** record a change; `inProcess` runs too on release/expiry (e.g. close a capture) */
  acquire(kind: string, undo: UndoAction, ttlMs: number, inProcess?: () => void | Promise<void>, label?: string): string;
  /** undo now and forget */
  release(leaseId: string): Promise<void>;
  /** extend */
  renew(leaseId: string, ttlMs: number): void;
  has(leaseId: string): boolean;
  /** the leases held now (optional: the agent's ledger has it; test fakes may not) */
  list?(): LeaseInfo[];
}

export interface LeaseInfo {
  readonly id: string;
  readonly kind: string;
  readonly label?: string;
  readonly undo: UndoAction;
  /** epoch ms */
  readonly expiresAt: number;
}

export interface MethodImpl<P extends z.ZodTypeAny = z.ZodTypeAny, R extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly spec: MethodSpec<P, R>;
  // method syntax (not a function-typed property) so a MethodImpl<SpecificSchema>
  // is assignable to MethodImpl (the explicit list in agent/methods.ts)
  handler(params: z.infer<P>, ctx: AgentContext): Promise<z.input<R>>;
}

export function implement<P extends z.ZodTypeAny, R extends z.ZodTypeAny>(
  spec: MethodSpec<P, R>,
  handler: (params: z.infer<P>, ctx: AgentContext) => Promise<z.input<R>>,
): MethodImpl<P, R> {
  return { spec, handler };
}

/** Domain error codes for RPC errors, outside JSON-RPC's reserved -32768..-32000. */
export const DOMAIN_ERROR = {
  EINVAL: 1001,
  ENOENT: 1002,
  EPERM: 1003,
  ETOOL: 1004,
  ETIMEDOUT: 1005,
  ECANCELED: 1006,
  EBUSY: 1007,
  EFAULT: 1008,
  ECONFIG: 1009,
  EAGENT: 1010,
  EPCAP: 1011,
  EWIRE: 1012,
} as const;
