/**
 * `ping AGENT DEST[,DEST...]` (original form): native ICMP echo from the agent —
 * sent, received, loss, rtt min/avg/max/mdev per destination, ICMP errors decoded
 * (unreachable, frag-needed with the next-hop MTU, time exceeded). `--df --size N`
 * probe a path MTU by hand.
 * Declarations only: what the command runs is in ./run.ts, loaded on use.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { StethError } from '../../src/errors.js';
import { intArg } from '../../src/cli/args.js';
import type { PingArgs } from './run.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('ping')
    .description('ICMP echo from AGENT to each destination (native: no ping binary); loss, rtt min/avg/max/mdev, ICMP errors decoded')
    .argument('<agent>', 'node to ping from')
    .argument('<dest>', 'destination IPv4 address(es), comma-separated')
    .option('--count <n>', 'echo requests per destination', intArg('count', 1, 10000), 3)
    .addOption(new Option('--timeout <seconds>', 'wait for the last reply (also settable as the global --timeout)'))
    .option('--interval <ms>', 'between requests (ms)', intArg('interval', 1, 60000), 200)
    .option('--interface <name>', 'source interface')
    .option('--source <ip>', 'source address')
    .option('--netns <name>', 'ping from inside this namespace (qdhcp-…, qrouter-…)')
    .option('--df', 'set Don\'t Fragment')
    .option('--size <n>', 'ICMP data bytes (the IPv4 datagram is N + 28)', intArg('size', 0, 65507), 56)
    .option('--ttl <n>', 'IP TTL', intArg('ttl', 1, 255))
    .addHelpText('after', '\nExamples:\n  steth ping compute-1 10.0.1.3,10.0.1.4\n  steth ping compute-1 10.0.1.3 --df --size 1472\n')
    .action(async (agent, dest, opts) => {
      const g = ctx.globals();
      const t = opts.timeout !== undefined ? Number(opts.timeout) : g.timeout;
      if (t !== undefined && !(t > 0)) throw new StethError('EINVAL', `timeout '${opts.timeout}' is not a positive number of seconds`);
      const a: PingArgs = { agent, dests: dest, count: opts.count, intervalMs: opts.interval, size: opts.size, df: opts.df === true };
      if (t !== undefined) a.timeoutS = t;
      if (opts.ttl !== undefined) a.ttl = opts.ttl;
      if (opts.interface !== undefined) a.iface = opts.interface;
      if (opts.source !== undefined) a.source = opts.source;
      if (opts.netns !== undefined) a.netns = opts.netns;
      const { runPing } = await import('./run.js');
      ctx.out.emit(await runPing(ctx, a));
    });
}
