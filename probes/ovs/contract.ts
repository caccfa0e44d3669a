/**
 * Open vSwitch facts through `ovs-vsctl --format=json` (honouring the agent's
 * --ovsdb socket): the ports of a bridge and the Interface whose
 * external_ids:iface-id is a Neutron port id.
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { ifName, neutronPortId } from '../../src/rpc/fields.js';

export { neutronPortId } from '../../src/rpc/fields.js';

export const ovsPort = z.object({
  name: z.string(),
  bridge: z.string(),
  /** access VLAN (local VLAN on br-int), null = trunk / untagged */
  tag: z.number().int().nullable(),
  trunks: z.array(z.number().int()),
  /** -1 = failed to attach, null = not assigned yet */
  ofport: z.number().int().nullable(),
  type: z.string(),
  mac: z.string().nullable(),
  externalIds: z.record(z.string()),
  /** the Interface's error column, when OVS could not attach it */
  error: z.string().nullable(),
});
export type OvsPort = z.infer<typeof ovsPort>;

export const ovsPorts = declare(
  'ovs.ports',
  z.object({ bridge: ifName }).strict(),
  z.object({ bridge: z.string(), ports: z.array(ovsPort) }),
  'list the ports of an OVS bridge with tag, ofport and external_ids',
);


export const ovsFindPort = declare(
  'ovs.findPort',
  z.object({ portId: neutronPortId }).strict(),
  z.object({ found: z.boolean(), port: ovsPort.optional() }),
  'find the OVS Interface whose external_ids:iface-id is this Neutron port id',
);
