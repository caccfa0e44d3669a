/**
 * `lab up`: build the whole lab from a plan. Stages run in parallel where they are
 * independent (one `ip -batch` per namespace, the four OVS pairs at once, one
 * ovs-vsctl call per node with `--` separators, flows by replace-flows on stdin)
 * and the state file is saved after every stage so `down` can always clean up.
 */
import { randomBytes } from 'node:crypto';
import { AGENT_NODE_FLAGS } from '../../agent/node-flags.js';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StethError } from '../errors.js';
import { run } from '../host/exec.js';
import { renderStethConf } from './conf.js';
import { quiet } from './ip6.js';
import { brIntFlows, brPhysFlows, brTunFlows } from './flows.js';
import { ipBatch, pidAlive, readPid, replaceFlows, spawnDaemon, startOvsdb, startVswitchd, vsctl, waitTcp } from './host.js';
import { planLab, resolveSpec } from './spec.js';
import { readState, reserveOctet, saveState, releaseOctet } from './state.js';
import type { LabNetwork, LabNode, LabPort, LabSpec, LabState } from './types.js';

export interface UpOptions {
  prefix?: string;
  /** progress lines (CLI: stderr) */
  log?: (line: string) => void;
}

/** dist/bin/steth-agent.js next to this module (dist/src/lab → dist/bin). */
export function agentScript(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth-agent.js');
}

export async function labUp(partial: Partial<LabSpec> = {}, opts: UpOptions = {}): Promise<LabState> {
  if (process.getuid?.() !== 0) throw new StethError('EPERM', 'steth lab needs root (network namespaces, OVS)', { hint: 'run as root' });
  const spec = resolveSpec(partial, opts.prefix);
  const existing = await readState(spec.prefix, spec.baseDir);
  if (existing) {
    // a lab with active faults is broken on purpose: leave it (heal or down first)
    if (existing.phase === 'up' && (existing.faults.length > 0 || (await healthy(existing)))) return existing;
    const { labDown } = await import('./down.js');
    await labDown(spec.prefix, { baseDir: spec.baseDir });
  }
  const octet = await reserveOctet(spec.prefix, spec.baseDir, spec.octet);
  const state = planLab(spec, octet, randomBytes(24).toString('hex'));
  const log = opts.log ?? ((): void => undefined);
  try {
    await mkdir(state.dir, { recursive: true, mode: 0o700 });
    await writeFile(state.tokenFile, `${state.token}\n`, { mode: 0o600 });
    await saveState(state);
    log(`lab ${state.prefix}: 10.${octet}.0.0/16, namespaces`);
    await createLinks(state);
    await saveState(state);
    log('addresses and linux bridges');
    await configureNamespaces(state);
    await writeFile(state.configPath, renderStethConf(state, spec.agentPort), { mode: 0o600 });
    // agents need only their mgmt address: they start while OVS comes up
    const withAgents = spec.agents && existsSync(agentScript());
    if (spec.agents && !withAgents) log(`agents skipped: ${agentScript()} not built`);
    const agentsReady = withAgents ? startAgents(state, spec) : Promise.resolve();
    agentsReady.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    log('Open vSwitch (4 userspace pairs), flows, underlay, DHCP ports, dnsmasq');
    // each node goes on to its flows (and the network node to dnsmasq) as soon as its own OVS is up
    await Promise.all([
      startSwitchOvs(state, spec),
      ...state.nodes.map(async (n) => {
        await startNodeOvs(state, n);
        await finishNode(state, n);
        await Promise.all(state.networks.filter((net) => net.dhcp.node === n.name).map((net) => startDnsmasq(state, net)));
      }),
    ]);
    await saveState(state);
    if (withAgents) {
      log('agents');
      await agentsReady;
      await saveState(state);
    }
    state.phase = 'up';
    await saveState(state);
    return state;
  } catch (e) {
    // leave nothing behind: down works from the partial state
    const { labDown } = await import('./down.js');
    await labDown(state.prefix, { baseDir: spec.baseDir }).catch(() => undefined);
    await releaseOctet(state.prefix, spec.baseDir, octet);
    throw e;
  }
}

/** Every daemon of an existing lab still runs (faults may stop some: then up rebuilds the lab). */
async function healthy(s: LabState): Promise<boolean> {
  return (
    s.nodes.every((n) => pidAlive(n.pids.vswitchd) && pidAlive(n.pids.ovsdb) && (n.agentPid === undefined || pidAlive(n.agentPid))) &&
    pidAlive(s.switch.pids.vswitchd) &&
    s.networks.every((n) => n.dhcp.pid !== undefined && pidAlive(n.dhcp.pid))
  );
}

function nodeByName(state: LabState, name: string): LabNode {
  return state.nodes.find((n) => n.name === name)!;
}

/** All namespaces, then every veth pair, in one root `ip -batch`. */
async function createLinks(state: LabState): Promise<void> {
  const sw = state.switch.netns;
  const lines: string[] = state.netnsList.map((ns) => `netns add ${ns}`);
  for (const n of state.nodes) {
    const p = state.switch.ports[n.name]!;
    lines.push(`link add ${p.mgmt} netns ${sw} type veth peer name ${n.nics.mgmt} netns ${n.netns}`);
    lines.push(`link add ${p.net} netns ${sw} type veth peer name ${n.nics.net} netns ${n.netns}`);
    lines.push(`link add ${p.storage} netns ${sw} type veth peer name ${n.nics.storage} netns ${n.netns}`);
  }
  lines.push(`link add ${state.root.iface} type veth peer name root-m netns ${sw}`);
  for (const p of state.ports) {
    const node = nodeByName(state, p.node);
    lines.push(`link add ${p.devices.tap} netns ${node.netns} type veth peer name ${p.vmIface} netns ${p.vmNetns}`);
    if (p.hybrid) lines.push(`link add ${p.devices.qvb!} netns ${node.netns} type veth peer name ${p.devices.qvo!} netns ${node.netns}`);
  }
  await ipBatch(lines);
}

async function configureNamespaces(state: LabState): Promise<void> {
  const jobs: Promise<unknown>[] = [];
  const sw = state.switch;
  const swLines = ['link set lo up', `link add ${sw.mgmtBridge} type bridge`, `link add ${sw.storageBridge} type bridge`];
  for (const n of state.nodes) {
    const p = sw.ports[n.name]!;
    swLines.push(`link set ${p.mgmt} master ${sw.mgmtBridge} up`, `link set ${p.storage} master ${sw.storageBridge} up`, `link set ${p.net} up`);
  }
  swLines.push(`link set root-m master ${sw.mgmtBridge} up`, `link set ${sw.mgmtBridge} up`, `link set ${sw.storageBridge} up`);
  jobs.push(ipBatch(quiet(swLines), { netns: sw.netns }));
  jobs.push(ipBatch(quiet([`addr add ${state.root.address}/24 dev ${state.root.iface}`, `link set ${state.root.iface} up`])));
  for (const n of state.nodes) {
    const lines = [
      'link set lo up',
      `addr add ${n.addresses.mgmt}/24 dev ${n.nics.mgmt}`,
      `link set ${n.nics.mgmt} up`,
      `link set ${n.nics.net} up`,
      `addr add ${n.addresses.storage}/24 dev ${n.nics.storage}`,
      `link set ${n.nics.storage} up`,
    ];
    for (const p of state.ports.filter((x) => x.node === n.name)) {
      const net = state.networks.find((x) => x.id === p.networkId)!;
      if (p.hybrid) {
        lines.push(`link add ${p.devices.qbr!} type bridge`, `link set ${p.devices.qbr!} mtu ${net.mtu} up`);
        lines.push(`link set ${p.devices.tap} mtu ${net.mtu} master ${p.devices.qbr!} up`);
        lines.push(`link set ${p.devices.qvb!} mtu ${net.mtu} master ${p.devices.qbr!} up`);
        lines.push(`link set ${p.devices.qvo!} mtu ${net.mtu} up`);
      } else {
        lines.push(`link set ${p.devices.tap} mtu ${net.mtu} up`);
      }
    }
    jobs.push(ipBatch(quiet(lines), { netns: n.netns }));
  }
  for (const p of state.ports) {
    const net = state.networks.find((x) => x.id === p.networkId)!;
    jobs.push(
      ipBatch(
        quiet(['link set lo up', `link set ${p.vmIface} address ${p.mac} mtu ${net.mtu}`, `addr add ${p.ip}/24 dev ${p.vmIface}`, `link set ${p.vmIface} up`]),
        { netns: p.vmNetns },
      ),
    );
  }
  for (const net of state.networks) jobs.push(ipBatch(['link set lo up'], { netns: net.dhcp.netns }));
  await Promise.all(jobs);
  // TX checksum/TSO/GSO off in every VM (else TCP through userspace OVS fails): one ip process forks them all
  await ipBatch(state.ports.map((p) => `netns exec ${p.vmNetns} ethtool -K ${p.vmIface} tx off tso off gso off`));
}

const BR_OPTS = ['datapath_type=netdev', 'protocols=OpenFlow10,OpenFlow13', 'fail_mode=secure'];

function brCmd(bridge: string, failSecure = true): string[] {
  return ['--', 'add-br', bridge, '--', 'set', 'Bridge', bridge, ...BR_OPTS.filter((o) => failSecure || !o.startsWith('fail_mode'))];
}

async function startSwitchOvs(state: LabState, spec: LabSpec): Promise<void> {
  const sw = state.switch;
  sw.pids.ovsdb = await startOvsdb(sw.netns, sw.rundir);
  const trunks = `trunks=[${[0, ...spec.trunkedVlans].join(',')}]`;
  const cmds: string[] = ['--', 'init', '--', 'set', 'Open_vSwitch', '.', 'other_config:n-handler-threads=1', 'other_config:n-revalidator-threads=1',
    ...brCmd(sw.netBridge, false)];
  for (const n of state.nodes) cmds.push('--', 'add-port', sw.netBridge, sw.ports[n.name]!.net, '--', 'set', 'Port', sw.ports[n.name]!.net, trunks);
  await vsctl(sw.rundir, cmds, { noWait: true });
  sw.pids.vswitchd = await startVswitchd(sw.netns, sw.rundir);
  await vsctl(sw.rundir, ['--', 'set', 'Open_vSwitch', '.', 'external_ids:steth-lab=ready']);
}

function portExternalIds(p: LabPort): string[] {
  return [
    `external_ids:iface-id=${p.id}`,
    `external_ids:attached-mac=${p.mac}`,
    'external_ids:iface-status=active',
    `external_ids:vm-uuid=${p.vmUuid}`,
  ];
}

/** The ovs-vsctl commands that plug a VM port into br-int (used by up and by heal). */
export function plugPortCmds(p: LabPort, lvid: number): string[] {
  const dev = p.hybrid ? p.devices.qvo! : p.devices.tap;
  return ['--', '--may-exist', 'add-port', 'br-int', dev, `tag=${lvid}`, '--', 'set', 'Interface', dev, ...portExternalIds(p)];
}

/** Locally administered MAC of node i's underlay bridge in lab 10.X. */
export function underlayMac(octet: number, i: number): string {
  return ['0e', '5e', '0a', octet.toString(16).padStart(2, '0'), '01', (i + 1).toString(16).padStart(2, '0')].join(':');
}

async function startNodeOvs(state: LabState, n: LabNode): Promise<void> {
  n.pids.ovsdb = await startOvsdb(n.netns, n.rundir);
  const o = n.ofPorts;
  const cmds: string[] = ['--', 'init', '--', 'set', 'Open_vSwitch', '.', 'other_config:n-handler-threads=1', 'other_config:n-revalidator-threads=1',
    `external_ids:hostname=${n.name}`, `other_config:local_ip=${n.underlay}`];
  cmds.push(...brCmd('br-int'), ...brCmd('br-eth1'), ...brCmd('br-tun'));
  // a fixed MAC for the underlay bridge, so peers' tunnel neighbour caches stay right across a vswitchd restart
  cmds.push('--', 'set', 'Bridge', 'br-eth1', `other_config:hwaddr="${underlayMac(state.octet, state.nodes.indexOf(n))}"`);
  cmds.push('--', 'add-port', 'br-eth1', n.nics.net);
  cmds.push('--', 'add-port', 'br-int', o.intToPhys, '--', 'set', 'Interface', o.intToPhys, 'type=patch', `options:peer=${o.physToInt}`);
  cmds.push('--', 'add-port', 'br-eth1', o.physToInt, '--', 'set', 'Interface', o.physToInt, 'type=patch', `options:peer=${o.intToPhys}`);
  cmds.push('--', 'add-port', 'br-int', o.intToTun, '--', 'set', 'Interface', o.intToTun, 'type=patch', `options:peer=${o.tunToInt}`);
  cmds.push('--', 'add-port', 'br-tun', o.tunToInt, '--', 'set', 'Interface', o.tunToInt, 'type=patch', `options:peer=${o.intToTun}`);
  for (const [peerName, port] of Object.entries(o.vxlan)) {
    const peer = nodeByName(state, peerName);
    cmds.push('--', 'add-port', 'br-tun', port, '--', 'set', 'Interface', port, 'type=vxlan',
      `options:remote_ip=${peer.underlay}`, `options:local_ip=${n.underlay}`, 'options:key=flow', 'options:df_default=true', 'options:dst_port=4789');
  }
  for (const p of state.ports.filter((x) => x.node === n.name)) cmds.push(...plugPortCmds(p, n.localVlans[p.networkId]!));
  for (const net of state.networks.filter((x) => x.dhcp.node === n.name)) {
    const d = net.dhcp;
    cmds.push('--', 'add-port', 'br-int', d.iface, `tag=${net.localVlan[n.name]}`, '--', 'set', 'Interface', d.iface, 'type=internal',
      `external_ids:iface-id=${d.portId}`, `external_ids:attached-mac=${d.mac}`, 'external_ids:iface-status=active');
  }
  await vsctl(n.rundir, cmds, { noWait: true });
  n.pids.vswitchd = await startVswitchd(n.netns, n.rundir);
  // waits until ovs-vswitchd has applied the whole configuration (internal ports exist)
  await vsctl(n.rundir, ['--', 'set', 'Open_vSwitch', '.', 'external_ids:steth-lab=ready']);
}

/** Flows, underlay address, DHCP ports moved into their qdhcp namespaces. */
export async function programNode(state: LabState, n: LabNode): Promise<void> {
  await Promise.all([
    replaceFlows(n.rundir, 'br-int', brIntFlows(state, n)),
    replaceFlows(n.rundir, 'br-eth1', brPhysFlows(state, n)),
    replaceFlows(n.rundir, 'br-tun', brTunFlows(state, n)),
    ipBatch(quiet([`addr replace ${n.underlay}/24 dev ${n.underlayIface}`, `link set ${n.underlayIface} up`]), { netns: n.netns }),
  ]);
}

export async function finishNode(state: LabState, n: LabNode): Promise<void> {
  await programNode(state, n);
  const nets = state.networks.filter((x) => x.dhcp.node === n.name);
  if (nets.length === 0) return;
  await ipBatch(nets.map((net) => `link set ${net.dhcp.iface} netns ${net.dhcp.netns}`), { netns: n.netns });
  await Promise.all(
    nets.map((net) =>
      ipBatch(
        quiet([`link set ${net.dhcp.iface} address ${net.dhcp.mac} mtu ${net.mtu}`, `addr add ${net.dhcp.ip}/24 dev ${net.dhcp.iface}`, `link set ${net.dhcp.iface} up`]),
        { netns: net.dhcp.netns },
      ),
    ),
  );
}

export function hostsFileText(state: LabState, net: LabNetwork, exclude: readonly string[] = []): string {
  return state.ports
    .filter((p) => p.networkId === net.id && !exclude.includes(p.mac))
    .map((p) => `${p.mac},host-${p.ip.replace(/\./g, '-')},${p.ip}\n`)
    .join('');
}

export async function startDnsmasq(state: LabState, net: LabNetwork): Promise<void> {
  const d = net.dhcp;
  const ddir = dirname(d.hostsFile);
  await mkdir(ddir, { recursive: true });
  await writeFile(d.hostsFile, hostsFileText(state, net));
  const pidFile = join(ddir, 'pid');
  const [a, b, c] = net.cidr.split('.');
  await run(
    'dnsmasq',
    [
      '--no-hosts', '--no-resolv', '--conf-file=/dev/null', '--port=0', '--bind-interfaces', `--interface=${d.iface}`, '--except-interface=lo',
      `--pid-file=${pidFile}`, `--dhcp-hostsfile=${d.hostsFile}`, `--dhcp-leasefile=${join(ddir, 'leases')}`,
      `--dhcp-range=set:subnet0,${a}.${b}.${c}.0,static,255.255.255.0,86400s`, `--dhcp-option-force=tag:subnet0,option:mtu,${net.mtu}`,
      '--dhcp-option=tag:subnet0,option:router', '--dhcp-lease-max=64', '--user=root', '--group=root', `--log-facility=${join(ddir, 'log')}`, '--log-dhcp',
    ],
    { netns: d.netns },
  );
  d.pid = await readPid(pidFile);
}

async function startAgents(state: LabState, spec: LabSpec): Promise<void> {
  const script = agentScript();
  await Promise.all(
    state.nodes.map(async (n) => {
      const sdir = join(n.rundir, 'agent');
      await mkdir(sdir, { recursive: true });
      n.agentPid = spawnDaemon(
        n.netns,
        process.execPath,
        [...AGENT_NODE_FLAGS, script, '--listen', n.addresses.mgmt, '--port', String(spec.agentPort), '--ovsdb', n.ovsdb, '--node-name', n.name, '--state-dir', sdir, '--token-file', state.tokenFile],
        join(n.rundir, 'agent.log'),
      );
      await saveState(state);
      const pid = n.agentPid;
      if (!(await waitTcp(n.addresses.mgmt, spec.agentPort, 30_000, () => pidAlive(pid)))) {
        throw new StethError('EAGENT', `steth-agent on ${n.name} did not start listening on ${n.addresses.mgmt}:${spec.agentPort}`, { hint: `see ${join(n.rundir, 'agent.log')}` });
      }
    }),
  );
}
