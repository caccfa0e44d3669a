/**
 * `npm run bench -- cli [--quick]`: how long the steth CLI takes to start, and how
 * many modules it loads doing so. Wall time of `steth --version` and `steth --help`
 * (node start, every command declaration, commander's parse, exit) and of a command
 * line naming a command that fails at parse time (`add-vlan-to-interface node-1 eth1
 * 4096`: only that command's area is declared — the floor of any real command),
 * median over 20 runs (5 with --quick); the anchor is a bare `node -e 0` measured
 * interleaved in the same run (A B C D A B C D), so the ratio is what steth adds to any
 * node start on this machine now (lower is better). Module counts: ES modules through a load hook,
 * CommonJS ones (commander) from the require cache, for the same three. No root, no lab.
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modulesLoaded } from '../helpers/modules.js';
import { result, timeNode, type BenchOptions, type BenchReport, type BenchResult } from './harness.js';

const STETH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth.js');
const USAGE_ERROR = ['add-vlan-to-interface', 'node-1', 'eth1', '4096'];

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  const runs = opts.quick ? 5 : 20;
  const env = { ...process.env, STETH_CONFIG: '' };
  // warm-up (excluded): the first start reads every file from disk
  await timeNode(['-e', '0']);
  await timeNode([STETH, '--version']);
  const bare: number[] = [];
  const version: number[] = [];
  const help: number[] = [];
  const command: number[] = [];
  const load0 = loadavg()[0]!;
  for (let i = 0; i < runs; i++) {
    bare.push(await timeNode(['-e', '0']));
    version.push(await timeNode([STETH, '--version']));
    help.push(await timeNode([STETH, '--help']));
    command.push(await timeNode([STETH, ...USAGE_ERROR]));
  }
  const load1 = loadavg()[0]!;
  const anchorValue = result('x', 'ms', bare).value;
  const anchor = { name: 'node -e 0 (same run, interleaved)', value: anchorValue };
  const goal = 'ratio = value / bare node start (lower is better)';
  const results: BenchResult[] = [
    result('cli_version_start', 'ms', version, { anchor, goal }),
    result('cli_help_start', 'ms', help, { anchor, goal }),
    result('cli_command_parse_error_start', 'ms', command, { anchor, goal, note: `steth ${USAGE_ERROR.join(' ')} (exit 2 at parse time)` }),
    result('node_bare_start_same_run', 'ms', bare),
  ];
  const counts: Array<[string, string[]]> = [
    ['cli_version_modules', ['--version']],
    ['cli_help_modules', ['--help']],
    ['cli_command_parse_error_modules', USAGE_ERROR],
  ];
  for (const [metric, args] of counts) {
    const m = await modulesLoaded([STETH, ...args], { env });
    const ours = m.esm.filter((u) => !u.includes('/node_modules/')).length;
    results.push({ metric, unit: 'modules', value: m.esm.length + m.cjs.length, note: `steth ${args.join(' ')}: ${m.esm.length} ES modules (${ours} of steth's own), ${m.cjs.length} CommonJS, ${m.builtins.length} node: builtins imported` });
  }
  return {
    results,
    notes: [
      `${runs} runs each, interleaved with a bare node start; one warm-up of each excluded`,
      `load average during the runs: ${load0.toFixed(1)} → ${load1.toFixed(1)} (2 cores shared); figures scale with it`,
      'module counts come from separate runs with a load hook (not the timed ones)',
    ],
  };
}
