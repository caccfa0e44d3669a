/**
 * The original agent's core methods (say_hello, get_interface, validate_ip,
 * check_ports_on_br, add_vlan_to_interface, setup_link, teardown_link) over the
 * new implementations, answering in the original {code, message, data} envelope.
 * ping / iperf / dhcp compat names come from their probes.
 */
import { z } from 'zod';
import type { MethodImpl } from '../src/rpc/method.js';
import { compatMethod } from '../src/rpc/compat.js';
import { ifaceReport } from '../src/host/iface.js';
import { listBridgePorts } from '../src/host/ovs.js';
import { parseIPv4 } from '../src/validate.js';
import { ifName } from '../probes/iface/contract.js';
import { cidr, vlanId } from '../probes/link/contract.js';
import { addVlanToInterface, DEFAULT_LINK_TTL_MS, setupLink, teardownLink } from '../probes/link/node.js';

const vlanIdLoose = z.union([vlanId, z.string().regex(/^\d+$/).transform(Number).pipe(vlanId)]);

function prefixToMask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

export const methods: MethodImpl[] = [
  compatMethod('say_hello', [], z.object({}).strict(), async () => ({ message: 'hello', data: {} })),

  compatMethod('get_interface', ['interface'], z.object({ interface: ifName }).strict(), async (p, ctx) => {
    const r = await ifaceReport(p.interface, { signal: ctx.signal });
    const v4 = r.addresses.find((a) => a.family === 'inet');
    return {
      data: {
        name: r.name,
        state: r.state,
        mtu: r.mtu,
        mac: r.mac,
        inet: v4?.address ?? null,
        netmask: v4 ? prefixToMask(v4.prefix) : null,
        addresses: r.addresses.map((a) => `${a.address}/${a.prefix}`),
        rx_bytes: r.stats?.rxBytes ?? null,
        rx_packets: r.stats?.rxPackets ?? null,
        rx_errors: r.stats?.rxErrors ?? null,
        rx_dropped: r.stats?.rxDropped ?? null,
        tx_bytes: r.stats?.txBytes ?? null,
        tx_packets: r.stats?.txPackets ?? null,
        tx_errors: r.stats?.txErrors ?? null,
        tx_dropped: r.stats?.txDropped ?? null,
        report: r,
      },
    };
  }),

  compatMethod('validate_ip', ['ip'], z.object({ ip: z.string() }).strict(), async (p) => {
    const ip = parseIPv4(p.ip);
    return { message: `${ip} is a valid IPv4 address`, data: { ip } };
  }),

  compatMethod(
    'check_ports_on_br',
    ['bridge', 'ports'],
    z
      .object({
        bridge: ifName.default('br-int'),
        // the original's own test passed a bare string; accept it as one port
        ports: z.union([z.array(ifName).min(1), ifName.transform((s) => [s])]),
      })
      .strict(),
    async (p, ctx) => {
      const present = new Set((await listBridgePorts(ctx.ovsdb, p.bridge, { signal: ctx.signal })).map((x) => x.name));
      const data: Record<string, boolean> = {};
      for (const port of p.ports) data[port] = present.has(port);
      const missing = p.ports.filter((x) => !present.has(x));
      return { message: missing.length ? `not on ${p.bridge}: ${missing.join(', ')}` : `all on ${p.bridge}`, data };
    },
  ),

  compatMethod('add_vlan_to_interface', ['interface', 'vlan_id'], z.object({ interface: ifName, vlan_id: vlanIdLoose }).strict(), async (p, ctx) => {
    const r = await addVlanToInterface(p.interface, p.vlan_id, undefined, DEFAULT_LINK_TTL_MS, ctx);
    return { message: `${r.iface} created`, data: r };
  }),

  compatMethod('setup_link', ['interface', 'cidr'], z.object({ interface: ifName, cidr }).strict(), async (p, ctx) => {
    const r = await setupLink(p.interface, p.cidr, DEFAULT_LINK_TTL_MS, ctx);
    return { message: `${p.cidr} on ${p.interface}`, data: r };
  }),

  compatMethod('teardown_link', ['interface'], z.object({ interface: ifName }).strict(), async (p, ctx) => {
    const r = await teardownLink(p.interface, undefined, ctx);
    return { message: r.undone.length ? r.undone.join('; ') : 'nothing to undo', data: r };
  }),
];

