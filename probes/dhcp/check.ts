/**
 * CLI commands of the DHCP probe:
 *
 *   check-dhcp PORT_ID                  (recommended) every hop from the VM's tap to the qdhcp port
 *   check-dhcp-on-comp PORT_ID PHYS_IFACE NETWORK_TYPE      original form: the compute node's hops
 *   check-dhcp-on-network PORT_ID PHYS_IFACE NETWORK_TYPE   original form: ARP for the port's IP
 *                                                           from the qdhcp namespace
 * Options: --full (REQUEST → ACK, then RELEASE), --pcap DIR, --mac, --wait; -f json gives
 * the whole structure (port, plan, observations, exchange, verdict).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { openstackCredentialsMayExist } from '../../src/cli/openstack.js';
import type { Config } from '../../src/config/types.js';
import type { CheckResult, Table } from '../../src/report/model.js';
import { EXIT, fieldTable } from '../../src/report/model.js';
import { StethError } from '../../src/errors.js';
import { assertIfName, assertUuid, parseMac } from '../../src/validate.js';
import type { DhcpCheckOutcome, EngineCtx } from './engine.js';
import type { HopRow, NetworkType } from './model.js';
import type { PortHintSource, PortHints } from './resolve.js';

export function engineCtx(ctx: CliContext, config: Config): EngineCtx {
  return {
    agents: config.agents,
    call: (agent, spec, params, opts) => ctx.client(agent).call(spec, params, { ...(opts ?? {}), signal: ctx.signal }),
    signal: ctx.signal,
  };
}

/** Neutron as a hint source when credentials are configured (src/openstack), else nothing. */
export function neutronHints(ctx: CliContext, config: Config): PortHintSource {
  // loading the OpenStack client costs more than the whole OVSDB resolution: only when
  // credentials can exist (steth.conf [neutron_client], OS_* / OS_CLOUD, a clouds.yaml)
  const maybe = openstackCredentialsMayExist(ctx.env, config);
  return {
    async hints(portId, signal) {
      if (!maybe) return undefined;
      const os = await import('../../src/openstack/index.js');
      let neutron;
      try {
        neutron = os.neutronFromSources({ env: ctx.env, ...(config.neutron ? { neutronConfig: config.neutron } : {}) });
      } catch (e) {
        return { warnings: [`Neutron credentials unusable (${(e as Error).message}): OVSDB only`] };
      }
      if (!neutron) return undefined;
      try {
        const r = await os.resolvePortWith(neutron, portId, { signal });
        const h: PortHints = { source: 'neutron', mac: r.mac, host: r.host, fixedIps: r.fixedIps.map((f) => f.ip), dhcpHosts: r.dhcp.map((d) => d.host) };
        if (r.hybrid !== null) h.hybrid = r.hybrid;
        const t = r.network.type;
        h.network = { id: r.network.id, type: t === 'vlan' || t === 'vxlan' || t === 'flat' ? t : 'unknown' };
        if (r.network.segmentationId !== null) h.network.segmentationId = r.network.segmentationId;
        if (r.network.mtu !== null) h.network.mtu = r.network.mtu;
        if (r.warnings.length) h.warnings = r.warnings;
        return h;
      } catch (e) {
        if (e instanceof StethError && (e.code === 'ENOENT' || e.code === 'EFAULT')) throw e;
        return { warnings: [`Neutron did not answer (${(e as Error).message}): OVSDB only`] };
      }
    },
  };
}

const yn = (v: boolean | null): string => (v === null ? '-' : v ? 'yes' : 'NO');
const ms = (v: number | null): string => (v === null ? '' : v.toFixed(2));

export function hopTable(rows: HopRow[]): Table {
  return {
    title: 'Hops (VM side → DHCP server)',
    columns: ['Node', 'Device', 'Role', 'DISCOVER', 'VLAN', 'ms', 'OFFER', 'VLAN back', 'ms back', 'Note'],
    rows: rows.map((r) => ({
      Node: r.node,
      Device: r.device,
      Role: r.role,
      DISCOVER: yn(r.discover),
      VLAN: r.discoverTags,
      ms: ms(r.discoverMs),
      OFFER: yn(r.offer),
      'VLAN back': r.offerTags,
      'ms back': ms(r.offerMs),
      Note: r.note,
    })),
  };
}

function portTable(o: DhcpCheckOutcome): Table {
  const p = o.port;
  return fieldTable(
    {
      port: p.portId,
      host: p.host,
      mac: p.mac || '?',
      'fixed IP': p.fixedIps.join(', ') || '?',
      network: p.network.id ?? '?',
      type: p.network.type,
      'segmentation id': p.network.segmentationId ?? '?',
      'local VLAN': p.ovs?.tag ?? '?',
      plugging: p.hybrid ? 'hybrid (tap-qbr-qvb-qvo)' : 'tap on br-int',
      'sent from': o.plan.injection?.describe ?? '-',
      'DHCP servers': p.servers.map((s) => `${s.node} ${s.netns}`).join(', ') || '?',
      resolved: p.source,
    },
    'Port',
  );
}

function offerTable(o: DhcpCheckOutcome): Table | undefined {
  const of = o.verdict.offer;
  if (!of) return undefined;
  return fieldTable(
    {
      server: `${of.server} (${of.serverMac})`,
      'offered IP': `${of.yiaddr}${o.verdict.fixedIp ? (of.yiaddr === o.verdict.fixedIp ? ' = fixed IP' : ` ≠ fixed IP ${o.verdict.fixedIp}`) : ''}`,
      'subnet mask': of.subnetMask,
      router: of.router?.join(', '),
      DNS: of.dns?.join(', '),
      'MTU (26)': of.mtu,
      'classless routes (121)': of.classlessRoutes?.map((r) => `${r.destination} via ${r.gateway}`).join('; '),
      'lease time': of.leaseTime !== undefined ? `${of.leaseTime} s` : undefined,
      domain: of.domain,
      ACK: o.exchange?.ack ? 'yes' : o.exchange?.nak ? 'NAK' : undefined,
      released: o.exchange?.ack ? (o.exchange.released ? 'yes' : 'no') : undefined,
    },
    'Offer',
  );
}

export function dhcpResult(command: string, o: DhcpCheckOutcome): CheckResult {
  const tables: Table[] = [hopTable(o.verdict.rows), portTable(o)];
  const off = offerTable(o);
  if (off) tables.push(off);
  if (o.verdict.causes.length) tables.push({ title: 'Likely causes', columns: ['Cause'], rows: o.verdict.causes.map((c) => ({ Cause: c })) });
  const notes = [...o.port.warnings, ...o.plan.warnings, ...o.verdict.unobserved.map((u) => `not observed: ${u}`)];
  if (notes.length) tables.push({ title: 'Notes', columns: ['Note'], rows: notes.map((n) => ({ Note: n })) });
  const r: CheckResult = { command, ok: o.verdict.ok, verdict: o.verdict.summary, tables, data: o };
  const down = o.port.unreachable ?? [];
  if (down.length) {
    // a partial picture: say so, and exit 4 unless a fault was found anyway
    r.verdict += ` (agent ${down.join(', ')} unreachable: ${down.length > 1 ? 'their' : 'its'} hops not observed)`;
    if (o.verdict.ok) r.exitCode = EXIT.AGENT;
  }
  const gone = [...new Set(o.observations.filter((x) => x.agentLost && !down.includes(x.point.node)).map((x) => x.point.node))];
  if (gone.length) {
    // armed, then the agent stopped answering: whatever the verdict, say whose hops are missing
    r.verdict += ` (agent ${gone.join(', ')} stopped answering mid-check: ${gone.length > 1 ? 'their' : 'its'} hops not observed)`;
  }
  const lost = o.observations.filter((x) => x.status !== 'ok' && !x.point.unobservable);
  if (lost.length && o.verdict.ok) {
    // armed captures an agent could not run or return: the pass is not a full one
    r.exitCode = EXIT.AGENT;
    if (!down.length && !gone.length) r.verdict += ` (capture failed at ${lost.map((x) => `${x.point.node} ${x.point.iface}`).join(', ')})`;
  }
  return r;
}

function parseNetworkType(v: string): NetworkType {
  if (v !== 'vlan' && v !== 'vxlan') throw new StethError('EINVAL', `network type '${v.slice(0, 16)}' is not supported`, { hint: "choose 'vlan' or 'vxlan'" });
  return v;
}

function waitParser(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 10 || n > 60_000) throw new StethError('EINVAL', `--wait ${v.slice(0, 16)}: expected 10..60000 ms`);
  return n;
}

/** The original form's table: message types seen per device. */
function originalCompTable(o: DhcpCheckOutcome, phys: string): Table {
  const rows: Table['rows'] = [];
  const byRole = new Map(o.observations.map((x) => [x.point.role, x]));
  const names: Record<number, string> = { 1: 'DHCPDISCOVER', 2: 'DHCPOFFER', 3: 'DHCPREQUEST', 5: 'DHCPACK', 6: 'DHCPNAK', 7: 'DHCPRELEASE' };
  for (const [label, role] of [['qvo', 'qvo'], ['qvb', 'qvb'], ['qbr', 'qbr'], ['tap', 'tap'], [phys, 'compute-uplink']] as const) {
    const ob = byRole.get(role);
    if (!ob) continue;
    const result = ob.status === 'ok' ? [...new Set(ob.frames.map((f) => names[f.msgType] ?? `type ${f.msgType}`))].join(', ') || '(nothing)' : `not observed: ${ob.error ?? ob.point.unobservable ?? ''}`;
    rows.push({ 'Device Name': label === phys ? phys : `${label} (${ob.point.iface})`, Result: result });
  }
  return { columns: ['Device Name', 'Result'], rows };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-dhcp')
    .description("Why does this port get no IP? Sends a DHCPDISCOVER as the port from its node and shows, hop by hop and node by node, how far it travelled, with which VLAN tag, and whether an OFFER came back")
    .argument('<port-id>', 'Neutron port id')
    .option('--full', 'also REQUEST the offered address (expect ACK), then RELEASE it so no lease is kept')
    .option('--pcap <dir>', 'write one pcap per capture point into DIR')
    .option('--mac <mac>', "the port's MAC when neither OVSDB nor Neutron knows it")
    .addOption(new Option('--wait <ms>', 'how long to wait for the OFFER').argParser(waitParser).default(3000))
    .addHelpText('after', '\nExamples:\n  steth check-dhcp 5b7e1c2a-9d3f-4e1a-8b2c-0d1e2f3a4b5c\n  steth check-dhcp PORT_ID --full --pcap /tmp/dhcp -f json\n')
    .action(async (portIdIn, opts) => {
      const portId = assertUuid(portIdIn, 'port id');
      const mac = opts.mac !== undefined ? parseMac(opts.mac) : undefined;
      const config = await ctx.config();
      const { runDhcpCheck } = await import('./engine.js');
      const o = await runDhcpCheck(engineCtx(ctx, config), {
        portId,
        full: opts.full === true,
        waitMs: opts.wait,
        hints: neutronHints(ctx, config),
        ...(mac ? { mac } : {}),
        ...(opts.pcap ? { pcapDir: opts.pcap } : {}),
      });
      ctx.out.emit(dhcpResult('check-dhcp', o));
    });

  program
    .command('check-dhcp-on-comp')
    .description('Original form: DHCPDISCOVER over the port\'s qvb on its compute node; DHCP messages seen at qvo, qvb, qbr, tap and PHYS_IFACE')
    .argument('<port-id>', 'Neutron port id')
    .argument('<physical-interface>', 'physical NIC of the compute node to watch')
    .argument('<network-type>', 'vlan or vxlan')
    .option('--pcap <dir>', 'write one pcap per capture point into DIR')
    .option('--mac <mac>', "the port's MAC when neither OVSDB nor Neutron knows it")
    .action(async (portIdIn, physIn, typeIn, opts) => {
      const portId = assertUuid(portIdIn, 'port id');
      const phys = assertIfName(physIn, 'physical interface');
      const networkType = parseNetworkType(typeIn);
      const mac = opts.mac !== undefined ? parseMac(opts.mac) : undefined;
      const config = await ctx.config();
      const { runDhcpCheck } = await import('./engine.js');
      const o = await runDhcpCheck(engineCtx(ctx, config), {
        portId,
        scope: 'compute',
        uplink: phys,
        networkType,
        hints: neutronHints(ctx, config),
        ...(mac ? { mac } : {}),
        ...(opts.pcap ? { pcapDir: opts.pcap } : {}),
      });
      const r = dhcpResult('check-dhcp-on-comp', o);
      r.tables = [originalCompTable(o, phys), ...r.tables];
      ctx.out.emit(r);
    });

  program
    .command('check-dhcp-on-network')
    .description("Original form: ARP for the port's IP from the network's qdhcp namespace, watched on the DHCP port, its bridge, the physical bridge and PHYS_IFACE")
    .argument('<port-id>', 'Neutron port id')
    .argument('<physical-interface>', 'physical NIC of the network node to watch')
    .argument('<network-type>', 'vlan or vxlan')
    .action(async (portIdIn, physIn, typeIn) => {
      const portId = assertUuid(portIdIn, 'port id');
      const phys = assertIfName(physIn, 'physical interface');
      const networkType = parseNetworkType(typeIn);
      const config = await ctx.config();
      const { resolveOnAgents } = await import('./engine.js');
      const { dhcpArpFromQdhcp } = await import('./contract.js');
      const ectx = engineCtx(ctx, config);
      const port = await resolveOnAgents(ectx, { portId, uplink: phys, networkType, hints: neutronHints(ctx, config) });
      const server = port.servers[0];
      const ip = port.fixedIps[0];
      if (!server) throw new StethError('ENOENT', `no agent serves DHCP for port ${portId}'s network (no qdhcp namespace found)`, { hint: port.warnings.join('; ') || undefined });
      if (!ip) throw new StethError('ENOENT', `the fixed IP of port ${portId} is unknown`, { hint: 'configure Neutron credentials, or check the dnsmasq hostsfile' });
      const r = await ectx.call(server.node, dhcpArpFromQdhcp, { networkId: server.networkId, ip, uplink: phys });
      const ok = r.replyMac !== undefined && (!port.mac || r.replyMac === port.mac);
      const rows = r.devices.map((d) => ({ 'Device Name': d.device, Result: d.error ? `not observed: ${d.error}` : d.ops.join(', ') || '(nothing)' }));
      const verdict = r.replyMac
        ? `${ip} answered ARP from ${r.netns} with ${r.replyMac}${port.mac ? (r.replyMac === port.mac ? ' (the port MAC)' : `, not the port MAC ${port.mac}`) : ''}`
        : `no ARP reply for ${ip} from ${r.netns} on ${server.node}${r.devices.some((d) => d.ops.includes('request') && d.device === phys) ? `: the request left ${phys}, check the path to ${port.host}` : ''}`;
      ctx.out.emit({ command: 'check-dhcp-on-network', ok, verdict, tables: [{ columns: ['Device Name', 'Result'], rows }], data: { port, server: server.node, arp: r } });
    });
}
