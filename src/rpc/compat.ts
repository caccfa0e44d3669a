/**
 * The original steth agent's wire shape, for clients that still speak it: method
 * names in snake_case, keyword params (a JSON object) or positional params (an
 * array, mapped onto the original argument order), and results wrapped in the
 * original envelope {code, message, data} (code 0 = success, 1 = failure).
 * A domain failure is an envelope with code 1 (as the original did), not an RPC
 * error; malformed params are still -32602 before anything runs.
 *
 * Probe engineers: `compatMethod('ping', ['ips', 'boardcast', 'count', 'timeout', 'interface'], schema, handler)`.
 */
import { z } from 'zod';
import { declare, implement, type AgentContext, type MethodImpl } from './method.js';
import { StethError } from '../errors.js';

export const compatEnvelope = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown(),
});
export type CompatEnvelope = z.infer<typeof compatEnvelope>;

export interface CompatOk {
  data: unknown;
  message?: string;
}

/**
 * Declare + implement an original-named method. `positional` is the original
 * argument order (used when params is an array); `params` validates the object form.
 */
export function compatMethod<S extends z.ZodTypeAny>(
  name: string,
  positional: readonly string[],
  params: S,
  handler: (p: z.infer<S>, ctx: AgentContext) => Promise<CompatOk>,
  summary = `original steth method ${name}`,
  defaultTimeoutMs?: number,
): MethodImpl {
  const schema = z.preprocess((raw) => {
    if (raw === undefined) return {};
    if (Array.isArray(raw)) {
      if (raw.length > positional.length) return { __tooManyArguments: raw.length };
      return Object.fromEntries(raw.map((v, i) => [positional[i]!, v]));
    }
    return raw;
  }, params);
  const spec = declare(name, schema, compatEnvelope, summary, defaultTimeoutMs);
  return implement(spec, async (p, ctx) => {
    try {
      const r = await handler(p as z.infer<S>, ctx);
      return { code: 0, message: r.message ?? '', data: r.data ?? {} };
    } catch (e) {
      if (e instanceof StethError) return { code: 1, message: e.message, data: { error: e.code, ...(e.hint ? { hint: e.hint } : {}) } };
      const pe = e as { name?: unknown; code?: unknown; message?: unknown };
      if (pe && typeof pe.code === 'string' && typeof pe.message === 'string' && (pe.name === 'PcapError' || pe.name === 'WireError')) {
        return { code: 1, message: pe.message, data: { error: pe.code } };
      }
      throw e;
    }
  });
}
