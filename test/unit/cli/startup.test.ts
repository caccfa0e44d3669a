/**
 * The CLI's start stays light: declaring every command (--help, help topics,
 * --version, a usage error caught by a parse-time validator) loads no probe runner,
 * engine or contract, no packet codec, no zod or yaml, no RPC client, config reader,
 * lab or OpenStack client — the action that needs them imports them. Each case runs
 * bin/steth.js in a fresh node process and lists what it loaded
 * (test/helpers/modules.ts). A command line naming a command declares only that
 * command's area, so AREAS must name every command each area declares.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { Command } from '@commander-js/extra-typings';
import { AREAS, buildProgram, commandName } from '../../../src/cli/program.js';
import type { CliContext } from '../../../src/cli/context.js';
import { modulesLoaded, type LoadedModules } from '../../helpers/modules.js';

const STETH = fileURLToPath(new URL('../../../bin/steth.js', import.meta.url));

/** What only an action may load. */
const HEAVY: Array<[string, RegExp]> = [
  ['a probe module other than check.js', /\/probes\/[^/]+\/(?!check\.js$)[^/]+$/],
  ['a packet codec', /\/src\/packet\//],
  ['the capture wrappers', /\/src\/capture\//],
  ['the RPC client or method contracts', /\/src\/rpc\/(?:client|method|compat)\.js$/],
  ['the config reader', /\/src\/config\/(?:load|ini)\.js$/],
  ['the lab', /\/src\/lab\/(?!types\.js$)/],
  ['the OpenStack client', /\/src\/openstack\//],
  ['the agent', /\/agent\//],
  ['decode-run', /\/commands\/decode-run\.js$/],
  ['zod', /\/node_modules\/zod\//],
  ['yaml', /\/node_modules\/yaml\//],
];

/** Every heavy module a start loaded, as "what: module" (expected: none). */
function heavyLoaded(r: LoadedModules): string[] {
  return HEAVY.flatMap(([name, re]) => [...r.esm, ...r.cjs].filter((m) => re.test(m)).map((m) => `${name}: ${m}`));
}

const steth = (...args: string[]): Promise<LoadedModules> => modulesLoaded([STETH, ...args], { env: { ...process.env, STETH_CONFIG: '' } });

test('--help declares every command without loading what the commands run', async (t) => {
  const r = await steth('--help');
  t.is(r.code, 0);
  for (const name of ['check-dhcp', 'check-vlan-interface', 'check-vlan', 'check-iperf', 'check-arp', 'check-mtu', 'ping', 'find-port', 'doctor', 'decode', 'lab', 'print-agents-info']) {
    t.regex(r.stdout, new RegExp(`^  ${name} `, 'm'), name);
  }
  for (const probe of ['arp', 'dhcp', 'doctor', 'icmp', 'iface', 'iperf', 'link', 'mtu', 'ovs', 'vlan']) {
    t.true(r.esm.some((m) => m.endsWith(`/probes/${probe}/check.js`)), `probes/${probe}/check.js registered`);
  }
  t.deepEqual(heavyLoaded(r), [], '--help');
});

test('help exit-codes and --version load nothing heavy either', async (t) => {
  const h = await steth('help', 'exit-codes');
  t.is(h.code, 0);
  t.regex(h.stdout, /130 +interrupted/);
  t.deepEqual(heavyLoaded(h), [], 'help exit-codes');
  const v = await steth('--version');
  t.is(v.code, 0);
  t.deepEqual(heavyLoaded(v), [], '--version');
});

test('a parse-time usage error (VLAN 4096) exits 2 before anything heavy is loaded', async (t) => {
  const r = await steth('add-vlan-to-interface', 'node-1', 'eth1', '4096');
  t.is(r.code, 2);
  t.regex(r.stderr, /4096/);
  t.deepEqual(heavyLoaded(r), [], 'add-vlan-to-interface ... 4096');
});

test('AREAS names exactly the commands each area declares', async (t) => {
  const seen = new Set<string>();
  for (const area of AREAS) {
    const program = new Command('steth');
    (await area.load()).register(program, {} as CliContext);
    const names = program.commands.map((c) => c.name());
    t.deepEqual(names, [...area.commands], area.commands.join(', '));
    for (const n of names) {
      t.false(seen.has(n), `${n} declared twice`);
      seen.add(n);
    }
  }
});

test('commandName skips the global options and their values; anything else means every area', async (t) => {
  const program = await buildProgram({} as CliContext);
  const cases: Array<[string[], string | undefined]> = [
    [['check-dhcp', 'PORT'], 'check-dhcp'],
    [['--config', '/x/steth.conf', '-f', 'json', 'check-dhcp', 'PORT'], 'check-dhcp'],
    [['--config=/x', '-fjson', '-c', 'Node', '-c', 'Device', '--timeout', '3', 'ping', 'a', '10.0.0.1'], 'ping'],
    [['--token', 'check-dhcp', 'find-port', 'x'], 'find-port'],
    [['-V'], undefined],
    [['--help'], undefined],
    [['-h', 'check-dhcp'], undefined],
    [['--bogus', 'check-dhcp'], undefined],
    [['--', 'check-dhcp'], undefined],
    [[], undefined],
  ];
  for (const [argv, name] of cases) t.is(commandName(program, argv), name, argv.join(' '));
});

test('a command line naming a command declares only its area; help COMMAND declares them all', async (t) => {
  const checks = (r: LoadedModules): string[] => r.esm.filter((m) => /\/(?:probes\/[^/]+\/check|src\/cli\/commands\/[^/]+)\.js$/.test(m)).map((m) => m.replace(/^.*\/dist\//, ''));
  const own = await steth('check-dhcp', '--help');
  t.is(own.code, 0);
  t.regex(own.stdout, /Usage: steth check-dhcp \[options\] <port-id>/);
  t.deepEqual(checks(own), ['probes/dhcp/check.js']);
  const viaHelp = await steth('help', 'check-dhcp');
  t.is(viaHelp.code, 0);
  t.is(viaHelp.stdout, own.stdout);
  t.is(checks(viaHelp).length, AREAS.length);
});
