/**
 * check-arp AGENT TARGET_IP [--vlan N[.M]] [--iface I] [--netns NS]: an ARP
 * who-has crafted at L2 on the agent (optionally tagged, optionally inside a
 * qdhcp-/qrouter- namespace); who answered, with which MAC, how fast; two MACs
 * for one IP are flagged as a duplicate address.
 * Declarations only: what the command runs is in ./run.ts, loaded on use.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { intArg } from '../../src/cli/args.js';
import type { ArpArgs } from './run.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-arp')
    .description('Send an ARP who-has for TARGET_IP from AGENT at L2 (optionally tagged, optionally in a namespace); report who answers and flag duplicate answers')
    .argument('<agent>', 'node to ask from')
    .argument('<target_ip>', 'IPv4 address to resolve')
    .option('--vlan <id>', 'tag the request: VLAN id, or OUTER.INNER for QinQ')
    .option('--iface <name>', 'interface to send on (default: the route to TARGET_IP)')
    .option('--netns <name>', 'namespace to send from (qdhcp-…, qrouter-…)')
    .option('--sender-ip <ip>', 'ARP sender address (default: the interface\'s; 0.0.0.0 when it has none)')
    .option('--count <n>', 'requests to send', intArg('count', 1, 100), 2)
    .option('--wait <ms>', 'listen at most this long (ms)', intArg('wait', 10, 60000), 1000)
    .addHelpText('after', '\nExamples:\n  steth check-arp compute-1 10.1.0.5\n  steth check-arp network-1 10.0.0.3 --netns qdhcp-2f4c…\n  steth check-arp compute-1 10.1.0.5 --iface eth1 --vlan 100\n')
    .action(async (agent, targetIp, opts) => {
      const a: ArpArgs = { agent, targetIp, count: opts.count, waitMs: opts.wait };
      if (opts.vlan !== undefined) a.vlan = opts.vlan;
      if (opts.iface !== undefined) a.iface = opts.iface;
      if (opts.netns !== undefined) a.netns = opts.netns;
      if (opts.senderIp !== undefined) a.senderIp = opts.senderIp;
      const { runCheckArp } = await import('./run.js');
      ctx.out.emit(await runCheckArp(ctx, a));
    });
}
