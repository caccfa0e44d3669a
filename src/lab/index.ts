/**
 * The emulated ML2/OVS lab: one network node and two compute nodes in network
 * namespaces, each with its own userspace OVS, three physical switches, two tenant
 * networks with DHCP, VMs plugged the Neutron way, and faults to break it with.
 * Used by `steth lab`, the end-to-end tests (test/lab/fixture.ts), the demo and
 * the benchmarks.
 */
export * from './types.js';
export { labUp, type UpOptions } from './up.js';
export { labDown, labDownAll, type DownResult } from './down.js';
export { readState as loadLab, listLabs } from './state.js';
export { resolveSpec, planLab, DEFAULT_PREFIX, DEFAULT_BASE_DIR, nodeOf, networkOf, portOf } from './spec.js';
export { renderStethConf } from './conf.js';
export { labFault, labHeal, assertFaultName, type FaultArgs } from './faults.js';
export { labStatus } from './status.js';
