/**
 * Field schemas the probes' contracts share — interface and namespace names, Neutron
 * port ids — each checked by the src/validate.ts assertion (its message, not zod's).
 * Apart from any method, so a contract that needs a name does not build another
 * probe's method schemas (check-dhcp would otherwise construct the iface and ovs
 * contracts too, zod schemas being costly to create at load).
 */
import { z } from 'zod';
import { assertIfName, assertNetnsName, assertUuid } from '../validate.js';

/** turn a src/validate.ts assertion into a zod issue (its message, not zod's) */
export function refineWith(assert: (v: unknown) => unknown, v: unknown, c: z.RefinementCtx): void {
  try {
    assert(v);
  } catch (e) {
    c.addIssue({ code: z.ZodIssueCode.custom, message: e instanceof Error ? e.message : String(e) });
  }
}

export const ifName = z.string().superRefine((v, c) => refineWith(assertIfName, v, c));
export const netnsName = z.string().superRefine((v, c) => refineWith(assertNetnsName, v, c));
export const neutronPortId = z.string().superRefine((v, c) => refineWith((x) => assertUuid(x, 'port id'), v, c));
