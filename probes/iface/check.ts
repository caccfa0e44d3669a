/** get-interface AGENT [IFACE]: one interface as fields, or all as a table. */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { fieldTable, type CheckResult } from '../../src/report/model.js';
import type { IfaceReport } from './contract.js';
import { ifNameArg, netnsOption } from '../../src/cli/args.js';
import { invalid } from '../../src/errors.js';

export function summaryRow(r: IfaceReport) {
  return {
    name: r.name,
    state: r.state,
    mtu: r.mtu,
    mac: r.mac,
    addresses: r.addresses.map((a) => `${a.address}/${a.prefix}`).join(' '),
    kind: r.kind ?? '',
    master: r.master,
    rx_packets: r.stats?.rxPackets ?? null,
    tx_packets: r.stats?.txPackets ?? null,
    rx_errors: r.stats ? r.stats.rxErrors + r.stats.rxDropped : null,
    tx_errors: r.stats ? r.stats.txErrors + r.stats.txDropped : null,
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('get-interface')
    .description('report an interface on an agent (state, MTU, MAC, addresses, kind, master, counters, speed); all interfaces when IFACE is omitted')
    .argument('<agent>', 'agent name from steth.conf')
    .argument('[iface]', 'interface name', ifNameArg)
    .addOption(netnsOption())
    .option('--require-up', 'a check, not only a report: exit 1 unless IFACE is up with carrier (doctor uses it)')
    .addHelpText('after', '\nExamples:\n  steth get-interface server-64 eth1\n  steth get-interface compute-1 -f json\n  steth get-interface network-1 tap1234 --netns qdhcp-5e1c...\n  steth get-interface compute-1 eth1 --require-up   # exit 1 when down')
    .action(async (agent, iface, opts) => {
      await ctx.config();
      const { ifaceGet, ifaceList } = await import('./contract.js');
      const client = ctx.client(agent);
      const ns = opts.netns === undefined ? {} : { netns: opts.netns };
      if (iface === undefined) {
        if (opts.requireUp === true) throw invalid('--require-up needs an interface name');
        const { interfaces } = await client.call(ifaceList, ns, { signal: ctx.signal });
        const rows = interfaces.map(summaryRow);
        const result: CheckResult = {
          command: 'get-interface',
          ok: true,
          verdict: `${interfaces.length} interfaces on ${agent}`,
          tables: [{ columns: ['name', 'state', 'mtu', 'mac', 'addresses', 'kind', 'master', 'rx_packets', 'tx_packets', 'rx_errors', 'tx_errors'], rows }],
          data: interfaces,
        };
        ctx.out.emit(result);
        return;
      }
      const r = await client.call(ifaceGet, { name: iface, ...ns }, { signal: ctx.signal });
      const s = r.stats;
      const fields = fieldTable({
        name: r.name,
        state: r.state,
        admin_up: r.adminUp,
        carrier: r.lowerUp,
        mtu: r.mtu,
        mac: r.mac,
        kind: r.kind,
        master: r.master,
        link: r.link,
        vlan_id: r.vlan?.id,
        vxlan_id: r.vxlan?.id,
        vxlan_remote: r.vxlan?.remote,
        bridge_ports: r.bridge ? r.bridge.ports.join(' ') : undefined,
        addresses: r.addresses.map((a) => `${a.address}/${a.prefix}`).join(' '),
        speed_mbps: r.speedMbps,
        duplex: r.duplex,
        driver: r.driver,
        rx_bytes: s?.rxBytes,
        rx_packets: s?.rxPackets,
        rx_errors: s?.rxErrors,
        rx_dropped: s?.rxDropped,
        tx_bytes: s?.txBytes,
        tx_packets: s?.txPackets,
        tx_errors: s?.txErrors,
        tx_dropped: s?.txDropped,
        source: r.source,
      });
      const up = r.adminUp && (r.lowerUp || r.state === 'UNKNOWN');
      const ok = up || opts.requireUp !== true;
      ctx.out.emit({ command: 'get-interface', ok, verdict: `${r.name} on ${agent} is ${up ? 'up' : r.adminUp ? 'up but has no carrier' : 'administratively down'}`, tables: [fields], data: r });
    });
}
