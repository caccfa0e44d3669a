/**
 * Link changes the original steth made (setup_link, teardown_link,
 * add_vlan_to_interface), now ledger-backed: every change is a lease that is
 * undone on teardown, on expiry, and when the agent restarts after a crash.
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { ifName, refineWith } from '../iface/contract.js';
import { parseCidr, assertVlanId } from '../../src/validate.js';

export const cidr = z.string().superRefine((v, c) => refineWith(parseCidr, v, c));
export const vlanId = z.number().int().superRefine((v, c) => refineWith(assertVlanId, v, c));
/** lease lifetime: 1 s .. 7 days; default per method */
export const ttlMs = z.number().int().min(1000).max(7 * 24 * 3600 * 1000);

export const linkSetup = declare(
  'link.setup',
  z.object({ iface: ifName, cidr, ttlMs: ttlMs.optional() }).strict(),
  z.object({
    iface: z.string(),
    cidr: z.string(),
    /** false when the address was already there (nothing to undo) */
    addedAddress: z.boolean(),
    /** false when the link was already up */
    broughtUp: z.boolean(),
    leaseIds: z.array(z.string()),
    expiresAt: z.string(),
  }),
  'bring an interface up and add an address (undone on teardown or lease expiry)',
);

export const linkTeardown = declare(
  'link.teardown',
  z.object({ iface: ifName, cidr: cidr.optional() }).strict(),
  z.object({ iface: z.string(), undone: z.array(z.string()) }),
  'undo what link.setup / vlan.addToInterface did on an interface (and delete CIDR if given)',
);

export const vlanAddToInterface = declare(
  'vlan.addToInterface',
  z.object({ iface: ifName, vlanId, cidr: cidr.optional(), ttlMs: ttlMs.optional() }).strict(),
  z.object({ iface: z.string(), parent: z.string(), vlanId: z.number().int(), leaseIds: z.array(z.string()), expiresAt: z.string() }),
  'create an 802.1Q subinterface IFACE.VLAN (needs the 8021q kernel module)',
);
