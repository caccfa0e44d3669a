/**
 * The steth command tree: global options plus the explicit list of command
 * registrations. A probe's check.ts (or src/cli/commands/NAME.ts) exports
 * `register(program, ctx)` and adds ONE line to `registers` below.
 */
import { Command, Option } from '@commander-js/extra-typings';
import type { CliContext, Register } from './context.js';
import { FORMATS } from './context.js';
import { register as registerAgents } from './commands/agents.js';
import { register as registerHelp } from './commands/help.js';
import { register as registerIface } from '../../probes/iface/check.js';
import { register as registerOvs } from '../../probes/ovs/check.js';
import { register as registerLink } from '../../probes/link/check.js';
import { register as registerLab } from './commands/lab.js';
import { register as registerDhcp } from '../../probes/dhcp/check.js';
import { register as registerDoctor } from '../../probes/doctor/check.js';
import { register as registerVlan } from '../../probes/vlan/check.js';
import { register as registerArp } from '../../probes/arp/check.js';
import { register as registerPing } from '../../probes/icmp/check.js';
import { register as registerMtu } from '../../probes/mtu/check.js';
import { register as registerIperf } from '../../probes/iperf/check.js';
import { register as registerDecode } from './commands/decode.js';
// other areas: add `import { register as registerX } from '...';` here

export const registers: Register[] = [
  registerAgents,
  registerIface,
  registerLink,
  registerOvs,
  registerLab,
  registerDhcp,
  registerDoctor,
  // one line per command area below, e.g. registerDecode,
  registerVlan,
  registerArp,
  registerPing,
  registerMtu,
  registerIperf,
  registerDecode,
  registerHelp,
];

export const VERSION = '0.1.0';

/** Build the program (no side effects: nothing parsed, nothing printed). */
export function buildProgram(ctx: CliContext): Command {
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
  for (const reg of registers) reg(program, ctx);
  return program;
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
