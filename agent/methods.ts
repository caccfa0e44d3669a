/**
 * The explicit list of every method the agent serves. A probe exports
 * `methods: MethodImpl[]` from probes/NAME/node.ts and adds ONE line here.
 * Nothing is registered by reflection: what is not in this list cannot be called.
 */
import type { MethodImpl } from '../src/rpc/method.js';
import { methods as helloMethods } from './hello.js';
import { methods as ifaceMethods } from '../probes/iface/node.js';
import { methods as ovsMethods } from '../probes/ovs/node.js';
import { methods as linkMethods } from '../probes/link/node.js';
import { methods as compatMethods } from './compat.js';
import { methods as captureMethods } from '../probes/capture/node.js';
import { methods as vlanMethods } from '../probes/vlan/node.js';
import { methods as arpMethods } from '../probes/arp/node.js';
import { methods as icmpMethods } from '../probes/icmp/node.js';
import { methods as mtuMethods } from '../probes/mtu/node.js';
import { methods as dhcpMethods } from '../probes/dhcp/node.js';
import { methods as iperfMethods } from '../probes/iperf/node.js';
// probes of other areas: add `import { methods as xMethods } from '../probes/x/node.js';` here

export const methods: MethodImpl[] = [
  ...helloMethods,
  ...ifaceMethods,
  ...ovsMethods,
  ...linkMethods,
  ...compatMethods,
  // one line per probe area below, e.g. ...captureMethods,
  ...captureMethods,
  ...vlanMethods,
  ...arpMethods,
  ...icmpMethods,
  ...mtuMethods,
  ...dhcpMethods,
  ...iperfMethods,
];
