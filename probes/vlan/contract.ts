/**
 * VLAN probes between physical NICs. The sender half is `vlan.send` (below): it
 * builds 802.1Q / QinQ tagged steth probe frames ON the agent, stamping each with
 * the time just before it goes out, and injects them at a bounded rate. The
 * receiver half is the generic `capture.start` / `capture.collect` (probes/capture)
 * with a VLAN-aware filter on the probe id. Nothing on either host changes.
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { assertVlanId, parseMac } from '../../src/validate.js';
import { ifName, netnsName, refineWith } from '../iface/contract.js';
import { captureCollect } from '../capture/contract.js';

export const vlanId = z.number().int().superRefine((v, c) => refineWith(assertVlanId, v, c));
export const macAddress = z.string().superRefine((v, c) => refineWith(parseMac, v, c));
export const probeIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'probe id must be 16 lower-case hex digits');

export const vlanSendParams = z
  .object({
    iface: ifName,
    netns: netnsName.optional(),
    probeId: probeIdSchema,
    /** VLANs to send on (each the outer tag; with qinqInner the 802.1ad S-tag) */
    vlans: z.array(vlanId).min(1).max(4094),
    /** frames per VLAN */
    count: z.number().int().min(1).max(10_000).default(5),
    /** QinQ: inner 802.1Q C-tag under an 802.1ad outer tag */
    qinqInner: vlanId.optional(),
    pcp: z.number().int().min(0).max(7).default(0),
    /** destination MAC (default broadcast) */
    dstMac: macAddress.optional(),
    /** source MAC (default the interface's own) */
    srcMac: macAddress.optional(),
    /** frames per second this sender may inject */
    fps: z.number().int().min(1).max(1_000_000).default(2000),
    /** text written into each probe's origin field (default the node name) */
    origin: z.string().max(64).optional(),
    /** after sending, collect this agent's own capture (armed earlier with capture.start)
     *  in the same call: the two directions of a check then cost two round trips, not three */
    thenCollect: captureCollect.params.optional(),
  })
  .strict();
export type VlanSendParams = z.infer<typeof vlanSendParams>;

export const vlanSendResult = z.object({
  node: z.string(),
  iface: z.string(),
  srcMac: z.string(),
  sent: z.number().int(),
  /** ns since the epoch, decimal strings */
  firstNs: z.string(),
  lastNs: z.string(),
  durationMs: z.number(),
  /** kernel boot id of the sender: equal boot ids = same clock */
  bootId: z.string().nullable(),
  /** the thenCollect result (capture.collect's), or its error */
  collected: captureCollect.result.optional(),
  collectError: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type VlanSendResult = z.infer<typeof vlanSendResult>;

export const vlanSend = declare('vlan.send', vlanSendParams, vlanSendResult, 'inject 802.1Q/QinQ-tagged steth probe frames (id, seq, send time) at a bounded rate; no host change', 120_000);
