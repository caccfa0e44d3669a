/**
 * `steth lab up|down|status|fault NAME [KEY=VALUE...]|heal` — the embedded lab
 * (src/lab). Every subcommand takes --prefix (default stl) so several labs can
 * coexist; `up` prints where the generated steth.conf is.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { StethError, invalid } from '../../errors.js';
import { printable } from '../../validate.js';
import { withoutConfig, type CliContext } from '../context.js';
import type { CheckResult, Table } from '../../report/model.js';
import type { LabSpec, LabState } from '../../lab/types.js';
import { FAULT_NAMES } from '../../lab/types.js';

const DEFAULT_PREFIX = 'stl';

// the spec file's schema, built on first use: zod and yaml are loaded only by `lab up --spec`
async function specSchema() {
  const { z } = await import('zod');
  return z
    .object({
      prefix: z.string().optional(),
      vlanSegmentationId: z.number().int().optional(),
      vxlanVni: z.number().int().optional(),
      vxlanMtu: z.number().int().optional(),
      trunkedVlans: z.array(z.number().int()).optional(),
      vms: z.array(z.object({ node: z.string(), network: z.enum(['vlan', 'vxlan']), hybrid: z.boolean() }).strict()).optional(),
      agents: z.boolean().optional(),
      agentPort: z.number().int().optional(),
      octet: z.number().int().optional(),
    })
    .strict();
}

/** Read a lab spec file (JSON or YAML); unknown keys are an error. */
export async function readSpecFile(path: string): Promise<Partial<LabSpec>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new StethError('ENOENT', `cannot read lab spec ${printable(path)}: ${(e as Error).message}`);
  }
  const [{ parse: parseYaml }, schema] = await Promise.all([import('yaml'), specSchema()]);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new StethError('ECONFIG', `lab spec ${printable(path)} is not JSON/YAML: ${(e as Error).message}`);
  }
  const r = schema.safeParse(doc ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new StethError('ECONFIG', `lab spec ${printable(path)}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  return r.data as Partial<LabSpec>;
}

/** KEY=VALUE fault arguments (numbers stay strings; the fault validates them). */
export function parseFaultArgs(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const m = /^([a-z][a-z-]*)=(.+)$/.exec(it);
    if (!m) throw invalid(`fault argument '${printable(it)}' is not KEY=VALUE`, 'e.g. link=compute-1:net percent=30');
    out[m[1]!] = m[2]!;
  }
  return out;
}

function stateTables(s: LabState): Table[] {
  return [
    {
      title: 'nodes',
      columns: ['name', 'role', 'netns', 'mgmt', 'net', 'storage', 'agent'],
      rows: s.nodes.map((n) => ({ name: n.name, role: n.role, netns: n.netns, mgmt: n.addresses.mgmt, net: n.addresses.net, storage: n.addresses.storage, agent: n.agentPid ? n.agentUrl : 'not started' })),
    },
    {
      title: 'networks',
      columns: ['id', 'type', 'segmentation', 'cidr', 'mtu', 'dhcp'],
      rows: s.networks.map((n) => ({ id: n.id, type: n.type, segmentation: n.segmentationId, cidr: n.cidr, mtu: n.mtu, dhcp: `${n.dhcp.netns} ${n.dhcp.ip}` })),
    },
    {
      title: 'ports',
      columns: ['id', 'node', 'network', 'mac', 'ip', 'plug', 'vm netns'],
      rows: s.ports.map((p) => ({
        id: p.id, node: p.node, network: s.networks.find((n) => n.id === p.networkId)?.type ?? p.networkId, mac: p.mac, ip: p.ip, plug: p.hybrid ? 'hybrid' : 'tap on br-int', 'vm netns': p.vmNetns,
      })),
    },
  ];
}

/** The state without its token (the token stays in the token file). */
function publicState(s: LabState): Omit<LabState, 'token'> {
  const { token: _t, ...rest } = s;
  return rest;
}

export function register(program: Command, ctx: CliContext): void {
  const lab = withoutConfig(program.command('lab')).description('the embedded lab: an emulated ML2/OVS deployment (1 network + 2 compute nodes) in network namespaces');

  lab
    .command('up')
    .description('bring the lab up (idempotent); prints the steth.conf to use with --config')
    .option('--prefix <prefix>', 'lab prefix (names of its namespaces and links)', DEFAULT_PREFIX)
    .option('--spec <file>', 'lab spec (JSON or YAML: vlanSegmentationId, vxlanVni, trunkedVlans, vms, agents, ...)')
    .option('--no-agents', 'do not start steth-agents')
    .option('--openstack', 'a REAL Neutron control plane instead (keystone, neutron-server, OVS + DHCP agents, rabbitmq, mariadb from Debian packages, installed if missing): nodes network-1 and compute-2, ~1.5 GB')
    .option('--no-install', 'with --openstack: fail instead of installing missing packages')
    .action(async (opts) => {
      if (opts.openstack) {
        const { openstackUp } = await import('../../lab/openstack/index.js');
        const t0 = Date.now();
        const progress = ctx.out.progress('lab up --openstack');
        let os;
        try {
          os = await openstackUp({ prefix: opts.prefix, install: opts.install !== false, ...(opts.agents === false ? { agents: false } : {}), log: (l) => progress.update(`lab up --openstack: ${l}`) });
        } finally {
          progress.stop();
        }
        const { token: _t, ...pub } = os;
        ctx.out.emit({
          command: 'lab up',
          ok: true,
          verdict: `OpenStack lab ${os.prefix} up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${os.nodes.length} nodes, ${os.ports.length} ports; use --config ${os.configPath} with OS_CLIENT_CONFIG_FILE=${os.cloudsYaml} OS_CLOUD=${os.cloud}`,
          tables: stateTables(os as unknown as LabState),
          data: pub,
        });
        return;
      }
      const { labUp } = await import('../../lab/index.js');
      const spec = opts.spec ? await readSpecFile(opts.spec) : {};
      if (opts.agents === false) spec.agents = false;
      const t0 = Date.now();
      const progress = ctx.out.progress('lab up');
      let s: LabState;
      try {
        s = await labUp(spec, { prefix: opts.prefix, log: (l) => progress.update(`lab up: ${l}`) });
      } finally {
        progress.stop();
      }
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      const agents = s.nodes.filter((n) => n.agentPid).length;
      const result: CheckResult = {
        command: 'lab up',
        ok: true,
        verdict: `lab ${s.prefix} up in ${secs} s: ${s.nodes.length} nodes (${agents} agents), ${s.networks.length} networks, ${s.ports.length} ports; use --config ${s.configPath}`,
        tables: stateTables(s),
        data: publicState(s),
      };
      ctx.out.emit(result);
    });

  lab
    .command('down')
    .description('remove the lab: namespaces, links, OVS, dnsmasq, agents (a second down is a no-op)')
    .option('--prefix <prefix>', 'lab prefix (names of its namespaces and links)', DEFAULT_PREFIX)
    .option('--all', 'remove every lab on this machine')
    .action(async (opts) => {
      const { labDown, labDownAll } = await import('../../lab/index.js');
      const res = opts.all ? await labDownAll() : [await labDown(opts.prefix)];
      const removed = res.filter((r) => r.removed);
      ctx.out.emit({
        command: 'lab down',
        ok: true,
        verdict: removed.length === 0 ? 'no lab to remove' : `removed ${removed.map((r) => r.prefix).join(', ')}`,
        tables: [{ columns: ['prefix', 'removed', 'namespaces', 'processes'], rows: res.map((r) => ({ prefix: r.prefix, removed: r.removed, namespaces: r.netns, processes: r.pids })) }],
        data: res,
      });
    });

  lab
    .command('status')
    .description('nodes (OVS, agent alive), networks (dnsmasq), ports, active faults')
    .option('--prefix <prefix>', 'lab prefix (names of its namespaces and links)', DEFAULT_PREFIX)
    .action(async (opts) => {
      const { labStatus } = await import('../../lab/index.js');
      const st = await labStatus(opts.prefix);
      if (st.phase === 'absent') throw new StethError('ENOENT', `no lab '${opts.prefix}'`, { hint: `steth lab up --prefix ${opts.prefix}` });
      const bad = [
        ...st.nodes.filter((n) => !n.ovs).map((n) => `${n.name}: OVS down`),
        ...st.nodes.filter((n) => n.agent === 'down').map((n) => `${n.name}: agent down`),
        ...st.networks.filter((n) => !n.dnsmasq).map((n) => `${n.name}: dnsmasq down`),
        ...st.ports.filter((p) => !p.present).map((p) => `port ${p.id.slice(0, 8)}: tap missing`),
      ];
      const tables: Table[] = [
        { title: 'nodes', columns: ['name', 'role', 'netns', 'mgmt', 'ovs', 'agent'], rows: st.nodes.map((n) => ({ ...n })) },
        { title: 'networks', columns: ['id', 'type', 'segmentationId', 'cidr', 'dnsmasq'], rows: st.networks.map((n) => ({ ...n })) },
        { title: 'ports', columns: ['id', 'node', 'network', 'mac', 'ip', 'hybrid', 'present'], rows: st.ports.map((p) => ({ ...p })) },
      ];
      if (st.faults.length > 0) tables.push({ title: 'faults', columns: ['name', 'summary'], rows: st.faults.map((f) => ({ ...f })) });
      const ok = st.phase === 'up' && bad.length === 0;
      ctx.out.emit({
        command: 'lab status',
        ok,
        verdict: ok
          ? `lab ${st.prefix} up${st.faults.length ? ` with ${st.faults.length} fault(s): ${st.faults.map((f) => f.name).join(', ')}` : ''}`
          : `lab ${st.prefix} ${st.phase}: ${bad.join('; ') || 'not fully up'}`,
        tables,
        data: st,
      });
    });

  lab
    .command('fault')
    .description(`break the lab (repair with heal). NAME: ${FAULT_NAMES.join(', ')}`)
    .argument('<name>', 'fault name')
    .argument('[args...]', 'KEY=VALUE: node=, port=, network=, link=NODE:mgmt|net|storage, percent=, ms=, vid=, vlan=, mtu=')
    .option('--prefix <prefix>', 'lab prefix (names of its namespaces and links)', DEFAULT_PREFIX)
    .addHelpText('after', '\nExamples:\n  steth lab fault vlan-not-trunked node=compute-2\n  steth lab fault loss link=compute-1:net percent=30\n  steth lab fault delay link=compute-1:net ms=50\n  steth lab heal')
    .action(async (name, args, opts) => {
      const { labFault, assertFaultName } = await import('../../lab/index.js');
      const fa = parseFaultArgs(args);
      const rec = await labFault(opts.prefix, assertFaultName(name), fa);
      ctx.out.emit({
        command: 'lab fault',
        ok: true,
        verdict: `fault ${rec.name}: ${rec.summary}`,
        tables: [{ columns: ['name', 'summary'], rows: [{ name: rec.name, summary: rec.summary }] }],
        data: { name: rec.name, args: rec.args, summary: rec.summary },
      });
    });

  lab
    .command('heal')
    .description('undo every active fault')
    .option('--prefix <prefix>', 'lab prefix (names of its namespaces and links)', DEFAULT_PREFIX)
    .action(async (opts) => {
      const { labHeal } = await import('../../lab/index.js');
      const healed = await labHeal(opts.prefix);
      ctx.out.emit({
        command: 'lab heal',
        ok: true,
        verdict: healed.length === 0 ? 'no active faults' : `healed ${healed.map((f) => f.name).join(', ')}`,
        tables: [{ columns: ['name', 'summary'], rows: healed.map((f) => ({ name: f.name, summary: f.summary })) }],
        data: healed.map((f) => ({ name: f.name, args: f.args, summary: f.summary })),
      });
    });
}
