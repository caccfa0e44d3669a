/**
 * The steth command tree: global options plus the explicit list of command areas.
 * A probe's check.ts (or src/cli/commands/NAME.ts) exports `register(program, ctx)`
 * and adds ONE line to `AREAS` below, naming the commands it declares: a command line
 * that names one of them loads and declares only that area (--help, `help`, no command
 * or an unknown one load them all). test/unit/cli/startup.test.ts checks the names.
 */
import { Command, Option } from '@commander-js/extra-typings';
import type { CliContext, Register } from './context.js';
import { FORMATS } from './context.js';

export interface Area {
  /** the top-level commands its register() declares */
  commands: readonly string[];
  load(): Promise<{ register: Register }>;
  /** declaring this area's commands needs every other area's too (help COMMAND) */
  needsAll?: boolean;
}

/** One line per area, in --help order: the commands its register() declares, and its module. */
export const AREAS: readonly Area[] = [
  { commands: ['print-agents-info'], load: () => import('./commands/agents.js') },
  { commands: ['get-interface'], load: () => import('../../probes/iface/check.js') },
  { commands: ['setup-link', 'teardown-link', 'add-vlan-to-interface'], load: () => import('../../probes/link/check.js') },
  { commands: ['check-ports-on-br', 'find-port'], load: () => import('../../probes/ovs/check.js') },
  { commands: ['lab'], load: () => import('./commands/lab.js') },
  { commands: ['check-dhcp', 'check-dhcp-on-comp', 'check-dhcp-on-network'], load: () => import('../../probes/dhcp/check.js') },
  { commands: ['doctor', 'demo'], load: () => import('../../probes/doctor/check.js') },
  { commands: ['check-vlan-interface', 'check-vlan'], load: () => import('../../probes/vlan/check.js') },
  { commands: ['check-arp'], load: () => import('../../probes/arp/check.js') },
  { commands: ['ping'], load: () => import('../../probes/icmp/check.js') },
  { commands: ['check-mtu'], load: () => import('../../probes/mtu/check.js') },
  { commands: ['check-iperf'], load: () => import('../../probes/iperf/check.js') },
  { commands: ['decode'], load: () => import('./commands/decode.js') },
  { commands: ['help'], load: () => import('./commands/help.js'), needsAll: true },
];

export const VERSION = '0.1.0';

/**
 * Build the program (no side effects: nothing parsed, nothing printed). With argv,
 * only the area of the command it names is loaded and declared (see AREAS).
 */
export async function buildProgram(ctx: CliContext, argv?: readonly string[]): Promise<Command> {
  const program = new Command('steth');
  program
    .description('Network inspection for OpenStack networking: agents craft and sniff frames, the CLI correlates them hop by hop.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--config <file>', 'config file (default /etc/steth/steth.conf)').env('STETH_CONFIG'))
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .addOption(new Option('-c, --column <name>', 'show only this column (repeatable)').argParser(collect).default([] as string[]))
    .addOption(new Option('--token <token>', 'agent token (default: config token / token_file, STETH_TOKEN)'))
    .addOption(new Option('--timeout <seconds>', 'per-agent RPC deadline in seconds').argParser(positiveNumber))
    .addOption(new Option('--concurrency <n>', 'agents called in parallel').argParser(positiveInt))
    .showHelpAfterError()
    .enablePositionalOptions(false);
  const name = argv === undefined ? undefined : commandName(program, argv);
  const area = name === undefined ? undefined : AREAS.find((a) => a.commands.includes(name));
  const areas = area && !area.needsAll ? [area] : AREAS;
  const modules = await Promise.all(areas.map((a) => a.load()));
  for (const m of modules) m.register(program, ctx);
  return program;
}

/**
 * The command a command line names: its first operand once the global options (and
 * their values) are skipped. Undefined when there is none, or when an option before
 * it is not a global one (-h, a typo): commander then sees every command, for its
 * help and its suggestions.
 */
export function commandName(program: Command, argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (a === '-' || !a.startsWith('-')) return a;
    const long = a.startsWith('--');
    const eq = a.indexOf('=');
    const flag = long ? (eq > 0 ? a.slice(0, eq) : a) : a.slice(0, 2);
    const opt = program.options.find((o) => (long ? o.long === flag : o.short === flag));
    if (!opt) return undefined;
    const attached = long ? eq > 0 : a.length > 2;
    if ((opt.required || opt.optional) && !attached) i++;
  }
  return undefined;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgument(`'${value}' is not a positive number`);
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgument(`'${value}' is not a positive whole number`);
  return n;
}

import { InvalidArgumentError as InvalidArgument } from '@commander-js/extra-typings';
