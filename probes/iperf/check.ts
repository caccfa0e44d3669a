/**
 * `check-iperf SERVER_AGENT CLIENT_AGENT [--iperf_server_type mgmt|net|storage|others]`
 * (original form and option names; `others` = all three types, one after the other)
 * and `check-iperf --matrix`: every ordered pair of nodes × network type, a node
 * serving at most one test and sending at most one at a time, disjoint work in
 * parallel (or `--serial`). `--min 9G` makes either a pass/fail preflight.
 *
 * Each test: the server agent starts a one-off iperf3 server bound to its address
 * on that network type (port chosen by the agent, under a lease), the client agent
 * runs iperf3 from its own address on that type with every parameter given, then
 * the server is stopped (it normally has exited already) and its report kept.
 * Declarations only: what the command runs is in ./run.ts, loaded on use.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { StethError } from '../../src/errors.js';
import type { IperfDeps } from './run.js';

export const SERVER_TYPES = ['mgmt', 'net', 'storage', 'others'] as const;

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-iperf')
    .description('bandwidth between two agents per network type (iperf3), or the matrix over all pairs × types')
    .argument('[server_agent]', 'the iperf server runs on this agent')
    .argument('[client_agent]', 'the iperf client runs on this agent')
    .addOption(new Option('--iperf_server_type <type>', "network type: 'mgmt', 'net', 'storage' or 'others' (all three)").choices(SERVER_TYPES).default('others'))
    .addOption(new Option('--matrix', 'every ordered pair of agents × type'))
    .addOption(new Option('--types <list>', 'matrix: network types, comma-separated (default mgmt,net,storage)'))
    .addOption(new Option('--nodes <list>', 'matrix: agents, comma-separated (default all configured)'))
    .addOption(new Option('--serial', 'matrix: one test at a time (clean figures)'))
    .addOption(new Option('--min <bandwidth>', 'pass/fail: every test must receive at least this (e.g. 9G, 900M)'))
    .addOption(new Option('--protocol <proto>', 'tcp or udp (default tcp)'))
    .addOption(new Option('-t, --time <seconds>', 'test duration (default 5, as the original)'))
    .addOption(new Option('-P, --parallel <n>', 'parallel streams'))
    .addOption(new Option('-b, --bandwidth <bandwidth>', 'target bit/s per stream, e.g. 100M (needed for UDP, else iperf3 sends 1M)'))
    .addOption(new Option('-R, --reverse', 'the server sends, the client receives'))
    .addOption(new Option('--bidir', 'both directions at once'))
    .addOption(new Option('-w, --window <size>', 'socket buffer, e.g. 256K'))
    .addOption(new Option('-M, --mss <bytes>', 'TCP maximum segment size'))
    .addOption(new Option('--port <port>', 'preferred server port (the agent picks another if it is taken)'))
    .addOption(new Option('--server_protocol <proto>', 'original name of --protocol').hideHelp())
    .addOption(new Option('--client_protocol <proto>', 'original name of --protocol').hideHelp())
    .addOption(new Option('--server_port <port>', 'original name of --port').hideHelp())
    .addOption(new Option('--client_port <port>', 'original name of --port').hideHelp())
    .addOption(new Option('--client_timeout <seconds>', 'original name of --time').hideHelp())
    .addOption(new Option('--client_parallel <n>', 'original name of --parallel').hideHelp())
    .addOption(new Option('--client_bandwidth <mbits>', 'original: Mbit/s (or a bandwidth string)').hideHelp())
    .addHelpText(
      'after',
      '\nExamples:\n  steth check-iperf compute-1 network-1 --iperf_server_type net\n  steth check-iperf compute-1 network-1 --protocol udp -b 500M -t 3\n  steth check-iperf --matrix --types net,storage --min 9G\n  steth check-iperf --matrix --serial -f json',
    )
    .action(async (server, client, opts) => {
      const [{ testOptions, parseTypes, runMatrixCheck, runSingle }, { parseBandwidth }] = await Promise.all([import('./run.js'), import('./units.js')]);
      const test = testOptions(opts);
      const min = opts.min === undefined ? undefined : parseBandwidth(opts.min, '--min');
      const deps: IperfDeps = { config: () => ctx.config(), client: (n) => ctx.client(n), signal: ctx.signal };
      if (opts.matrix) {
        if (server !== undefined || client !== undefined) throw new StethError('EINVAL', '--matrix takes no SERVER_AGENT / CLIENT_AGENT', { hint: 'use --nodes A,B,C to restrict the matrix' });
        const types = parseTypes(opts.types);
        const nodes = (opts.nodes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const progress = ctx.out.progress('iperf matrix');
        try {
          const r = await runMatrixCheck(deps, { types, nodes, test, serial: !!opts.serial, onProgress: (t) => progress.update(t), ...(min !== undefined ? { min } : {}) });
          progress.stop();
          ctx.out.emit(r);
        } finally {
          progress.stop();
        }
        return;
      }
      if (server === undefined || client === undefined) throw new StethError('EINVAL', 'check-iperf needs SERVER_AGENT and CLIENT_AGENT (or --matrix)');
      if (opts.types !== undefined || opts.nodes !== undefined || opts.serial) throw new StethError('EINVAL', '--types, --nodes and --serial apply to --matrix only');
      const progress = ctx.out.progress(`iperf ${client} → ${server}`);
      try {
        const r = await runSingle(deps, { server, client, serverType: opts.iperf_server_type, test, ...(min !== undefined ? { min } : {}) });
        progress.stop();
        ctx.out.emit(r);
      } finally {
        progress.stop();
      }
    });
}
