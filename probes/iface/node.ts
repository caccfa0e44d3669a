/** Agent side of interface reports. */
import { implement, type MethodImpl } from '../../src/rpc/method.js';
import { ifaceReport } from '../../src/host/iface.js';
import { ifaceGet, ifaceList } from './contract.js';

const hostOpts = (netns: string | undefined, signal: AbortSignal): { netns?: string; signal: AbortSignal } =>
  netns === undefined ? { signal } : { netns, signal };

export const methods: MethodImpl[] = [
  implement(ifaceGet, async (p, ctx) => await ifaceReport(p.name, hostOpts(p.netns, ctx.signal))),
  implement(ifaceList, async (p, ctx) => ({ interfaces: await ifaceReport(undefined, hostOpts(p.netns, ctx.signal)) })),
];
