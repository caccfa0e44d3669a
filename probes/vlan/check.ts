/**
 * CLI side of the VLAN probes:
 *  - check-vlan-interface AGENT_A AGENT_B IFACE VLAN_ID (original form): both
 *    directions at once, each with its own probe id: captures armed on both NICs
 *    first, then each agent injects tagged probes towards the other's NIC MAC;
 *    per direction delivered n/N, tag at the receiver, PCP, one-way latency,
 *    duplicates, loss. Nothing on either host changes.
 *  - check-vlan --vlans SET: the trunk matrix over every ordered node pair.
 *  - --legacy: the original method (VLAN subinterface + address + ping), only
 *    where the 8021q module exists; every change is a ledger lease, torn down here.
 * Declarations only: what the commands run is in ./run.ts, loaded on use.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { intArg } from '../../src/cli/args.js';
import type { VlanInterfaceArgs, VlanMatrixArgs } from './run.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-vlan-interface')
    .description('Is VLAN_ID carried between AGENT_A:IFACE and AGENT_B\'s NIC of the same network type? Injects tagged probe frames both ways; changes nothing on either host.')
    .argument('<agent_a>', 'first node')
    .argument('<agent_b>', 'second node')
    .argument('<iface>', 'NIC on AGENT_A (AGENT_B uses its NIC of the same network type from the config)')
    .argument('<vlan_id>', 'VLAN id 1..4094')
    .option('--peer-iface <name>', 'NIC on AGENT_B (default from the config)')
    .option('--network-type <type>', 'network type whose NICs to use (mgmt, net, storage)')
    .option('--count <n>', 'probe frames per direction', intArg('count', 1, 10000), 5)
    .option('--pcp <n>', '802.1p priority to send', intArg('pcp', 0, 7), 0)
    .option('--qinq <inner>', 'send QinQ: VLAN_ID as the 802.1ad S-tag over this 802.1Q C-tag', intArg('inner VLAN', 1, 4094))
    .option('--wait <ms>', 'wait for late frames after sending (ms)', intArg('wait', 0, 60000), 300)
    .option('--legacy', 'the original method: VLAN subinterface + address + ping on both hosts (needs 8021q; undone afterwards)')
    .addHelpText('after', '\nExamples:\n  steth check-vlan-interface compute-1 compute-2 eth1 100\n  steth -f json check-vlan-interface network-1 compute-1 eth1 101 --count 50\n')
    .action(async (agentA, agentB, iface, vlanId, opts) => {
      const args: VlanInterfaceArgs = { agentA, agentB, iface, vlan: vlanId, count: opts.count, pcp: opts.pcp, waitMs: opts.wait };
      if (opts.peerIface !== undefined) args.peerIface = opts.peerIface;
      if (opts.networkType !== undefined) args.networkType = opts.networkType;
      if (opts.qinq !== undefined) args.qinqInner = opts.qinq;
      const { runCheckVlanInterface, runCheckVlanInterfaceLegacy } = await import('./run.js');
      const run = opts.legacy ? runCheckVlanInterfaceLegacy : runCheckVlanInterface;
      ctx.out.emit(await run(ctx, args));
    });

  program
    .command('check-vlan')
    .description('Trunk matrix: every VLAN of the set between every ordered pair of nodes, on their NICs of one network type')
    .requiredOption('--vlans <set>', 'VLAN ids and ranges, e.g. 100-199,300')
    .option('--nodes <list>', "'all' or a comma-separated list of agents", 'all')
    .option('--network-type <type>', 'which NICs (mgmt, net, storage)', 'net')
    .addOption(new Option('--qinq <inner>', 'QinQ: each VLAN of the set as the 802.1ad S-tag over this 802.1Q C-tag').argParser(intArg('inner VLAN', 1, 4094)))
    .option('--count <n>', 'frames per VLAN per sender', intArg('count', 1, 1000), 2)
    .option('--fps <n>', 'bound on frames per second per NIC (sent + received)', intArg('fps', 1, 1_000_000), 6000)
    .option('--wait <ms>', 'wait for late frames after sending (ms)', intArg('wait', 0, 60000), 300)
    .addHelpText('after', '\nExamples:\n  steth check-vlan --vlans 100-199,300\n  steth -f csv check-vlan --vlans 100-110 --nodes compute-1,compute-2\n')
    .action(async (opts) => {
      const args: VlanMatrixArgs = { vlans: opts.vlans, nodes: opts.nodes, networkType: opts.networkType, count: opts.count, fps: opts.fps, waitMs: opts.wait };
      if (opts.qinq !== undefined) args.qinqInner = opts.qinq;
      const { runCheckVlan } = await import('./run.js');
      ctx.out.emit(await runCheckVlan(ctx, args));
    });
}

