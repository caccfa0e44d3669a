/** Agent side of OVS facts (honours the agent's --ovsdb). */
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { findIfaceByPortId, listBridgePorts } from '../../src/host/ovs.js';
import { ovsFindPort, ovsPorts } from './contract.js';

export const methods: MethodImpl[] = [
  implement(ovsPorts, async (p, ctx) => ({ bridge: p.bridge, ports: await listBridgePorts(ctx.ovsdb, p.bridge, { signal: ctx.signal }) })),
  implement(ovsFindPort, async (p, ctx) => {
    const port = await findIfaceByPortId(ctx.ovsdb, p.portId, { signal: ctx.signal });
    return port === undefined ? { found: false } : { found: true, port };
  }),
];
