/**
 * `steth doctor`: the preflight a deployment must pass before go-live (agents,
 * interfaces, reachability per network type, VLAN trunks, path MTU, DHCP per port,
 * bandwidth), run against the configured agents or the embedded lab (--lab).
 * `steth demo`: the README's main job — bring the embedded lab up, run doctor against
 * it, show one fault diagnosed hop by hop, heal, and take the lab down again.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { withoutConfig, type CliContext } from '../../src/cli/context.js';
import type { NetworkTypeName } from '../../src/config/types.js';
import { invalid } from '../../src/errors.js';
import type { CheckResult } from '../../src/report/model.js';
import { EXIT } from '../../src/report/model.js';
import type { LabState } from '../../src/lab/types.js';
import { parseVlanSet } from '../../src/validate.js';
import type { DoctorCheck, DoctorOptions } from './plan.js';

const TYPES: readonly NetworkTypeName[] = ['mgmt', 'net', 'storage'];

interface DoctorFlags {
  lab?: string | boolean;
  types?: string;
  vlans?: string;
  ports?: string;
  min?: string;
  iperfTime?: string;
  skip?: string;
  only?: string;
}

export function register(program: Command, ctx: CliContext): void {
  withoutConfig(program.command('doctor'))
    .description('preflight: agents, interfaces, ping per network type, VLAN trunks, path MTU, DHCP per port, bandwidth — one verdict')
    .addOption(new Option('--lab [prefix]', 'check the embedded lab (its generated config, ports, trunked VLANs)'))
    .option('--types <list>', 'network types to check (mgmt,net,storage)')
    .option('--vlans <set>', 'VLANs the tenant switch must trunk, e.g. 100-199,300 (check-vlan)')
    .option('--ports <ids>', 'Neutron port ids to run check-dhcp for (comma separated)')
    .option('--min <bandwidth>', 'minimum bandwidth per node pair and type, e.g. 1G (check-iperf --matrix)')
    .option('--iperf-time <seconds>', 'seconds per bandwidth test')
    .option('--skip <checks>', 'checks to skip: agents,interfaces,ping,vlan,mtu,dhcp,iperf')
    .option('--only <checks>', 'run only these checks')
    .addHelpText('after', '\nExamples:\n  steth doctor --vlans 100-110 --min 1G\n  steth doctor --lab            # against the embedded lab (steth lab up)\n')
    .action(async (flags: DoctorFlags) => {
      ctx.out.emit(await doctor(ctx, flags));
    });

  withoutConfig(program.command('demo'))
    .description('bring up the embedded lab, run doctor against it, diagnose one injected fault, heal, take the lab down')
    .option('--prefix <prefix>', 'lab prefix', 'stl')
    .option('--keep', 'leave the lab up afterwards')
    .option('--no-fault', 'skip the fault drill')
    .action(async (flags: { prefix: string; keep?: boolean; fault: boolean }) => {
      const lab = await import('../../src/lab/index.js');
      const p = ctx.out.progress('bringing up the embedded lab');
      const t0 = performance.now();
      let state: LabState;
      try {
        state = await lab.labUp({}, { prefix: flags.prefix, log: (line) => p.update(line) });
      } finally {
        p.stop();
      }
      try {
        ctx.out.note(`lab ${state.prefix} up in ${((performance.now() - t0) / 1000).toFixed(1)} s; config ${state.configPath}`);
        ctx.out.emit(await doctor(ctx, { lab: state.prefix }, state));
        if (flags.fault) ctx.out.emit(await faultDrill(ctx, state));
      } finally {
        if (!flags.keep) {
          const d = ctx.out.progress('taking the lab down');
          try {
            await lab.labDown(state.prefix);
          } finally {
            d.stop();
          }
        } else {
          ctx.out.note(`lab left up: steth --config ${state.configPath} ...; steth lab down --prefix ${state.prefix}`);
        }
      }
    });
}

async function doctor(ctx: CliContext, flags: DoctorFlags, labState?: LabState): Promise<CheckResult> {
  const [{ parseChecks, planDoctor }, { runDoctor, summarize }, { loadConfig }] = await Promise.all([import('./plan.js'), import('./run.js'), import('../../src/config/load.js')]);
  const g = ctx.globals();
  const opts: DoctorOptions = {};
  let configPath = g.config;
  if (flags.lab !== undefined && flags.lab !== false) {
    const prefix = typeof flags.lab === 'string' ? flags.lab : 'stl';
    const state = labState ?? (await (await import('../../src/lab/index.js')).loadLab(prefix));
    if (!state) throw invalid(`no lab '${prefix}' is up`, 'run: steth lab up');
    configPath ??= state.configPath;
    opts.ports = state.ports.map((p) => p.id);
    opts.vlans = state.trunkedVlans.join(',');
    opts.minBandwidth = '1M';
    opts.iperfSeconds = 1;
  }
  if (flags.types !== undefined) {
    const types = flags.types.split(',').map((t) => t.trim());
    for (const t of types) if (!(TYPES as readonly string[]).includes(t)) throw invalid(`unknown network type '${t}'`, 'known: mgmt, net, storage');
    opts.types = types as NetworkTypeName[];
  }
  if (flags.vlans !== undefined) {
    parseVlanSet(flags.vlans); // validate here: a bad set is a usage error, not a failed step
    opts.vlans = flags.vlans;
  }
  if (flags.ports !== undefined) opts.ports = flags.ports.split(',').map((s) => s.trim()).filter(Boolean);
  if (flags.min !== undefined) opts.minBandwidth = flags.min;
  if (flags.iperfTime !== undefined) opts.iperfSeconds = Number(flags.iperfTime);
  let skip = new Set<DoctorCheck>();
  try {
    if (flags.skip !== undefined) skip = parseChecks(flags.skip);
    if (flags.only !== undefined) {
      const only = parseChecks(flags.only);
      skip = new Set((['agents', 'interfaces', 'ping', 'vlan', 'mtu', 'dhcp', 'iperf'] as DoctorCheck[]).filter((c) => !only.has(c)));
    }
  } catch (e) {
    throw invalid((e as Error).message);
  }
  opts.skip = skip;

  const cfg = await loadConfig({ ...(configPath !== undefined ? { path: configPath } : {}), env: ctx.env });
  const steps = planDoctor(cfg, opts);
  const globals: string[] = [];
  if (configPath !== undefined) globals.push('--config', configPath);
  if (g.token !== undefined) globals.push('--token', g.token);
  if (g.timeout !== undefined) globals.push('--timeout', String(g.timeout));
  if (g.concurrency !== undefined) globals.push('--concurrency', String(g.concurrency));
  const p = ctx.out.progress('doctor');
  try {
    const outcomes = await runDoctor(steps, globals, {
      signal: ctx.signal,
      onStep: (i, s) => p.update(`doctor ${i + 1}/${steps.length}: ${s.check} ${s.target}`),
    });
    return summarize(outcomes);
  } finally {
    p.stop();
  }
}

/**
 * Break the VLAN translation on compute-1's br-eth1 (100 → 101), run check-dhcp on a
 * VLAN port there, and check that steth names the fault; then heal and confirm the
 * same check passes again. The drill passes when steth found the fault it was shown.
 */
async function faultDrill(ctx: CliContext, state: LabState): Promise<CheckResult> {
  const [lab, { cliRunner }] = await Promise.all([import('../../src/lab/index.js'), import('./run.js')]);
  const vlanNet = state.networks.find((n) => n.type === 'vlan');
  const port = state.ports.find((pt) => pt.networkId === vlanNet?.id && pt.node === 'compute-1' && pt.hybrid);
  if (!vlanNet || !port) return { command: 'demo', ok: false, verdict: 'fault drill: the lab has no hybrid VLAN port on compute-1', tables: [], data: null, exitCode: EXIT.FAULT };
  const globals = ['--config', state.configPath];
  const p = ctx.out.progress('fault drill: wrong VLAN translation on compute-1');
  try {
    const fault = await lab.labFault(state.prefix, 'vlan-translation', { node: 'compute-1', network: vlanNet.id });
    let broken;
    try {
      broken = await cliRunner([...globals, '-f', 'json', 'check-dhcp', port.id], ctx.signal);
    } finally {
      await lab.labHeal(state.prefix);
    }
    const healed = await cliRunner([...globals, '-f', 'json', 'check-dhcp', port.id], ctx.signal);
    const verdictOf = (s: string): string => {
      try {
        return String((JSON.parse(s) as { verdict?: unknown }).verdict ?? '');
      } catch {
        return s.trim().slice(0, 200);
      }
    };
    const found = broken.code === EXIT.FAULT;
    const recovered = healed.code === EXIT.OK;
    return {
      command: 'demo',
      ok: found && recovered,
      verdict: found && recovered ? `fault drill passed: steth diagnosed "${fault.summary}" and the healed lab passes again` : `fault drill failed: fault found=${found}, healed check passed=${recovered}`,
      tables: [
        {
          title: 'fault drill',
          columns: ['step', 'exit', 'verdict'],
          rows: [
            { step: `lab fault vlan-translation (${fault.summary})`, exit: null, verdict: '' },
            { step: `check-dhcp ${port.id} (broken)`, exit: broken.code, verdict: verdictOf(broken.stdout) },
            { step: `check-dhcp ${port.id} (healed)`, exit: healed.code, verdict: verdictOf(healed.stdout) },
          ],
        },
      ],
      data: { fault, broken: verdictOf(broken.stdout), healed: verdictOf(healed.stdout) },
    };
  } finally {
    p.stop();
  }
}
