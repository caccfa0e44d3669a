/**
 * `steth lab up --openstack`: the lab tier with a real Neutron control plane
 * (keystone, neutron-server, OVS and DHCP agents, rabbitmq, mariadb from
 * Debian's packages). See types.ts for the layout and up.ts for the start order.
 */
import { openstackDown, type OpenstackDownResult } from './down.js';
import { openstackUp as up } from './up.js';
import type { OpenstackLabState, OpenstackUpOptions } from './types.js';

export * from './types.js';
export { readOpenstackState, type OpenstackDownResult } from './down.js';
export { DEFAULT_OPENSTACK_PREFIX, planOpenstackLab } from './up.js';
export { ensurePackages, missingPackages, PACKAGES } from './install.js';

export function openstackUp(opts: OpenstackUpOptions = {}): Promise<OpenstackLabState> {
  return up(opts);
}

export { openstackDown };
export type { OpenstackDownResult as DownResult };
