/**
 * check-mtu AGENT_A AGENT_B [--network-type T]: the largest IPv4 datagram that
 * gets from A to B's address on that network and back with DF set (binary search
 * on the agent), any ICMP fragmentation-needed seen, each NIC's configured MTU on
 * the path (interface reports), and the overlay hint (VXLAN needs 50 bytes below
 * the underlay MTU).
 * Declarations only: what the command runs is in ./run.ts, loaded on use.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { intArg } from '../../src/cli/args.js';
import type { MtuArgs } from './run.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-mtu')
    .description('Path MTU from AGENT_A to AGENT_B on a network type: DF-set probes with binary search, frag-needed, configured NIC MTUs, overlay hint')
    .argument('<agent_a>', 'node that probes')
    .argument('<agent_b>', 'node probed (its address on the network type)')
    .option('--network-type <type>', 'mgmt, net or storage', 'net')
    .option('--dest <ip>', 'probe this address instead of AGENT_B\'s on the network type')
    .option('--netns <name>', 'probe from inside this namespace on AGENT_A (e.g. a VM\'s)')
    .option('--interface <name>', 'source interface on AGENT_A')
    .option('--max <bytes>', 'largest datagram to try (default: the MTU of the route\'s interface)', intArg('max', 68, 65535))
    .option('--overlay-mtu <bytes>', 'check a VXLAN tenant network MTU against this path', intArg('overlay MTU', 68, 65535))
    .option('--attempts <n>', 'tries per size before silence counts as too big', intArg('attempts', 1, 10), 2)
    .option('--wait <ms>', 'wait per echo (ms)', intArg('wait', 10, 10000), 300)
    .addHelpText('after', '\nExamples:\n  steth check-mtu compute-1 compute-2\n  steth check-mtu compute-1 network-1 --network-type storage --overlay-mtu 1450\n')
    .action(async (agentA, agentB, opts) => {
      const a: MtuArgs = { agentA, agentB, networkType: opts.networkType, attempts: opts.attempts, timeoutMs: opts.wait };
      if (opts.dest !== undefined) a.dest = opts.dest;
      if (opts.netns !== undefined) a.netns = opts.netns;
      if (opts.interface !== undefined) a.iface = opts.interface;
      if (opts.max !== undefined) a.max = opts.max;
      if (opts.overlayMtu !== undefined) a.overlayMtu = opts.overlayMtu;
      const { runCheckMtu } = await import('./run.js');
      ctx.out.emit(await runCheckMtu(ctx, a));
    });
}
