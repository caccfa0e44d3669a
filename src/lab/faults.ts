/**
 * Faults: break the lab the ways real clouds break, each recorded in the state with
 * what undoes it; `heal` undoes every active fault, newest first.
 *
 * Common arguments: node (default compute-1), port (id / id prefix / VM netns;
 * default the first hybrid VLAN port on compute-1), network (vlan | vxlan | id),
 * link ('NODE:mgmt|net|storage', default compute-1:net).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StethError, invalid } from '../errors.js';
import { run } from '../host/exec.js';
import { assertVlanId, parseIPv4, printable } from '../validate.js';
import { physTranslationFlow } from './flows.js';
import { quiet } from './ip6.js';
import { addFlows, ipBatch, pidAlive, pidIsOurs, spawnDaemon, startVswitchd, stopPids, vsctl } from './host.js';
import { networkOf, nodeOf, portOf } from './spec.js';
import { readState, saveState } from './state.js';
import { finishNode, hostsFileText, plugPortCmds, programNode, startDnsmasq } from './up.js';
import { FAULT_NAMES, type FaultName, type LabFaultRecord, type LabNode, type LabPort, type LabState, type NetworkKind } from './types.js';

export type FaultArgs = Record<string, string | number | undefined>;

async function mustLoad(prefix: string, baseDir?: string): Promise<LabState> {
  const s = await readState(prefix, baseDir);
  if (!s) throw new StethError('ENOENT', `no lab '${prefix}'`, { hint: `steth lab up --prefix ${prefix}` });
  if (s.phase !== 'up') throw new StethError('EBUSY', `lab '${prefix}' is not fully up`, { hint: 'steth lab down, then up again' });
  return s;
}

export function assertFaultName(name: unknown): FaultName {
  if (typeof name !== 'string' || !(FAULT_NAMES as readonly string[]).includes(name)) {
    throw invalid(`unknown fault '${printable(String(name))}'`, `faults: ${FAULT_NAMES.join(', ')}`);
  }
  return name as FaultName;
}

const str = (v: string | number | undefined, dflt: string): string => (v === undefined ? dflt : String(v));

function num(v: string | number | undefined, dflt: number, what: string, lo: number, hi: number): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < lo || n > hi) throw invalid(`${what} '${printable(String(v))}' is out of range ${lo}..${hi}`);
  return n;
}

function defaultPort(state: LabState, args: FaultArgs, needHybrid: boolean): LabPort {
  if (args.port !== undefined) {
    const p = portOf(state, String(args.port));
    if (needHybrid && !p.hybrid) throw invalid(`port ${p.id} is plugged without qbr/qvb/qvo (non-hybrid)`, 'choose a hybrid port');
    return p;
  }
  const vlanNet = state.networks.find((n) => n.type === 'vlan')!;
  const p =
    state.ports.find((x) => x.node === 'compute-1' && x.networkId === vlanNet.id && x.hybrid) ??
    state.ports.find((x) => x.hybrid || !needHybrid);
  if (!p) throw invalid('the lab has no port for this fault');
  return p;
}

interface LinkRef {
  node: LabNode;
  kind: NetworkKind;
  nodeIface: string;
  switchIface: string;
}

function parseLink(state: LabState, v: string | number | undefined): LinkRef {
  const text = str(v, 'compute-1:net');
  const m = /^([a-z0-9-]+):(mgmt|net|storage)$/.exec(text);
  if (!m) throw invalid(`link '${printable(text)}' is not NODE:mgmt|net|storage`, 'e.g. compute-1:net');
  const node = nodeOf(state, m[1]!);
  const kind = m[2] as NetworkKind;
  return { node, kind, nodeIface: node.nics[kind], switchIface: state.switch.ports[node.name]![kind] };
}

async function switchTrunks(state: LabState, swPort: string): Promise<number[]> {
  const r = await vsctl(state.switch.rundir, ['get', 'Port', swPort, 'trunks']);
  return r.stdout.replace(/[[\]\s]/g, '').split(',').filter((s) => s !== '').map(Number);
}

/** Relay program for `delay`: bridges two interfaces with AF_PACKET sockets, holding
 *  every frame for DELAY ms and re-inserting the VLAN tag the kernel moved into auxdata. */
const RELAY_PY = String.raw`import heapq, select, socket, struct, sys, time
ETH_P_ALL, SOL_PACKET, PACKET_AUXDATA = 3, 263, 8
VLAN_VALID, TPID_VALID = 1 << 4, 1 << 6
a, b, delay = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0
def op(n):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((n, 0))
    s.setblocking(False)
    return s
sa, sb = op(a), op(b)
peer = {sa.fileno(): sb, sb.fileno(): sa}
socks = {sa.fileno(): sa, sb.fileno(): sb}
q, seq = [], 0
while True:
    now = time.monotonic()
    while q and q[0][0] <= now:
        _, _, out, data = heapq.heappop(q)
        try:
            out.send(data)
        except OSError:
            pass
    timeout = max(0.0, q[0][0] - time.monotonic()) if q else None
    ready, _, _ = select.select([sa, sb], [], [], timeout)
    for s in ready:
        while True:
            try:
                data, anc, _, addr = s.recvmsg(65600, socket.CMSG_SPACE(20))
            except BlockingIOError:
                break
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            for level, typ, d in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA and len(d) >= 20:
                    status, _, _, _, _, tci, tpid = struct.unpack('IIIHHHH', d[:20])
                    if status & VLAN_VALID or tci:
                        tp = tpid if status & TPID_VALID and tpid else 0x8100
                        data = data[:12] + struct.pack('!HH', tp, tci) + data[12:]
            seq += 1
            heapq.heappush(q, (time.monotonic() + delay, seq, peer[s.fileno()], data))
`;

/** Apply one fault; returns its record (also saved in the state). */
export async function labFault(prefix: string, nameIn: string, args: FaultArgs = {}, opts: { baseDir?: string } = {}): Promise<LabFaultRecord> {
  const name = assertFaultName(nameIn);
  const state = await mustLoad(prefix, opts.baseDir);
  const rec = await applyFault(state, name, args);
  state.faults.push(rec);
  await saveState(state);
  return rec;
}

async function applyFault(state: LabState, name: FaultName, args: FaultArgs): Promise<LabFaultRecord> {
  const X = state.octet;
  switch (name) {
    case 'vlan-translation': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      const net = networkOf(state, str(args.network, 'vlan'));
      if (net.type !== 'vlan') throw invalid('vlan-translation needs a VLAN network');
      const wrong = assertVlanId(num(args.vid, net.segmentationId === 4094 ? 4093 : net.segmentationId + 1, 'vid', 1, 4094));
      await addFlows(node.rundir, 'br-eth1', [physTranslationFlow(node, net.localVlan[node.name]!, wrong)]);
      return {
        name, args: { node: node.name, network: net.id, vid: wrong },
        summary: `${node.name} br-eth1 translates local VLAN ${net.localVlan[node.name]} to ${wrong} instead of ${net.segmentationId}`,
        undo: { node: node.name, lvid: net.localVlan[node.name], vid: net.segmentationId },
      };
    }
    case 'vlan-not-trunked': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      const vlan = assertVlanId(num(args.vlan, state.networks.find((n) => n.type === 'vlan')!.segmentationId, 'vlan', 1, 4094));
      const swPort = state.switch.ports[node.name]!.net;
      const before = await switchTrunks(state, swPort);
      const after = before.filter((v) => v !== vlan);
      await vsctl(state.switch.rundir, ['set', 'Port', swPort, `trunks=[${after.join(',')}]`]);
      return { name, args: { node: node.name, vlan }, summary: `switch port ${swPort} (${node.name} ${node.nics.net}) does not trunk VLAN ${vlan}`, undo: { swPort, trunks: before } };
    }
    case 'dnsmasq-stopped': {
      const net = networkOf(state, str(args.network, 'vlan'));
      if (net.dhcp.pid) await stopPids([net.dhcp.pid], `${state.dir}/`);
      return { name, args: { network: net.id }, summary: `dnsmasq for ${net.name} (${net.dhcp.netns}) stopped`, undo: { network: net.id } };
    }
    case 'mac-missing': {
      const port = defaultPort(state, args, false);
      const net = networkOf(state, port.networkId);
      await writeFile(net.dhcp.hostsFile, hostsFileText(state, net, [port.mac]));
      if (net.dhcp.pid && pidIsOurs(net.dhcp.pid, `${state.dir}/`)) process.kill(net.dhcp.pid, 'SIGHUP');
      return { name, args: { port: port.id }, summary: `MAC ${port.mac} (port ${port.id}) removed from dnsmasq's hostsfile of ${net.name}`, undo: { network: net.id } };
    }
    case 'qvo-removed': {
      const port = defaultPort(state, args, true);
      const node = nodeOf(state, port.node);
      await vsctl(node.rundir, ['del-port', 'br-int', port.devices.qvo!]);
      return { name, args: { port: port.id }, summary: `${port.devices.qvo} removed from br-int on ${node.name}`, undo: { port: port.id } };
    }
    case 'tap-detached': {
      const port = defaultPort(state, args, true);
      const node = nodeOf(state, port.node);
      await ipBatch([`link set ${port.devices.tap} nomaster`], { netns: node.netns });
      return { name, args: { port: port.id }, summary: `${port.devices.tap} detached from ${port.devices.qbr} on ${node.name}`, undo: { port: port.id } };
    }
    case 'dead-vlan': {
      const port = defaultPort(state, args, false);
      const node = nodeOf(state, port.node);
      const dev = port.hybrid ? port.devices.qvo! : port.devices.tap;
      await vsctl(node.rundir, ['set', 'Port', dev, 'tag=4095']);
      return { name, args: { port: port.id }, summary: `${dev} on ${node.name} br-int tagged with the dead VLAN 4095`, undo: { port: port.id } };
    }
    case 'mtu-mismatch': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      const mtu = num(args.mtu, 1400, 'mtu', 576, 9000);
      await ipBatch([`link set ${node.nics.net} mtu ${mtu}`], { netns: node.netns });
      return { name, args: { node: node.name, mtu }, summary: `${node.name} ${node.nics.net} MTU ${mtu} (the rest of the tenant network: 1500)`, undo: { node: node.name, mtu: 1500 } };
    }
    case 'nic-down': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      const kind = str(args.nic, 'net') as NetworkKind;
      if (!['mgmt', 'net', 'storage'].includes(kind)) throw invalid(`nic '${printable(kind)}' is not mgmt, net or storage`);
      await ipBatch([`link set ${node.nics[kind]} down`], { netns: node.netns });
      return { name, args: { node: node.name, nic: kind }, summary: `${node.name} ${node.nics[kind]} (${kind}) is down`, undo: { node: node.name, nic: node.nics[kind] } };
    }
    case 'vswitchd-stopped': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      await stopPids([node.pids.vswitchd], `${state.dir}/`);
      return { name, args: { node: node.name }, summary: `ovs-vswitchd on ${node.name} stopped`, undo: { node: node.name } };
    }
    case 'vxlan-remote-wrong': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      const peer = nodeOf(state, str(args.peer, node.name === 'compute-2' ? 'compute-1' : 'compute-2'));
      const port = node.ofPorts.vxlan[peer.name];
      if (!port) throw invalid(`${node.name} has no tunnel to ${peer.name}`);
      const wrong = parseIPv4(str(args.remote, `10.${X}.1.99`));
      await vsctl(node.rundir, ['set', 'Interface', port, `options:remote_ip=${wrong}`]);
      return { name, args: { node: node.name, peer: peer.name, remote: wrong }, summary: `${node.name} ${port} points at ${wrong} instead of ${peer.underlay}`, undo: { node: node.name, port, remote: peer.underlay } };
    }
    case 'underlay-missing': {
      const node = nodeOf(state, str(args.node, 'compute-1'));
      await ipBatch([`addr del ${node.underlay}/24 dev ${node.underlayIface}`], { netns: node.netns });
      return { name, args: { node: node.name }, summary: `${node.name} lost its VXLAN underlay address ${node.underlay}`, undo: { node: node.name } };
    }
    case 'loss': {
      const link = parseLink(state, args.link);
      const percent = num(args.percent, 30, 'percent', 0, 100);
      if (state.faults.some((f) => f.name === 'loss' && f.args.link === `${link.node.name}:${link.kind}`)) {
        throw new StethError('EBUSY', `link ${link.node.name}:${link.kind} already has a loss fault`, { hint: 'steth lab heal first' });
      }
      const threshold = Math.min(0xffffffff, Math.round((percent / 100) * 0x100000000));
      // classic BPF: A = random u32; if A >= threshold → no match (pass), else match → redirect to a DOWN ifb (drop)
      const bytecode = `4,32 0 0 4294963256,53 0 1 ${threshold},6 0 0 0,6 0 0 4294967295`;
      const ends = [
        { netns: link.node.netns, dev: link.nodeIface },
        { netns: state.switch.netns, dev: link.switchIface },
      ];
      for (const e of ends) {
        const ifb = `ifb-${e.dev}`.slice(0, 15);
        await ipBatch([`link add ${ifb} type ifb`], { netns: e.netns });
        await run('tc', ['-n', e.netns, 'qdisc', 'replace', 'dev', e.dev, 'clsact']);
        await run('tc', ['-n', e.netns, 'filter', 'add', 'dev', e.dev, 'egress', 'bpf', 'bytecode', bytecode, 'action', 'mirred', 'egress', 'redirect', 'dev', ifb]);
      }
      return {
        name, args: { link: `${link.node.name}:${link.kind}`, percent },
        summary: `${percent}% random loss both ways on ${link.node.name} ${link.nodeIface} (${link.kind})`,
        undo: { ends: ends.map((e) => ({ ...e, ifb: `ifb-${e.dev}`.slice(0, 15) })) },
      };
    }
    case 'delay': {
      const link = parseLink(state, args.link);
      const ms = num(args.ms, 50, 'ms', 1, 10_000);
      if (state.faults.some((f) => f.name === 'delay' && f.args.link === `${link.node.name}:${link.kind}`)) {
        throw new StethError('EBUSY', `link ${link.node.name}:${link.kind} already has a delay`, { hint: 'steth lab heal first' });
      }
      const sw = state.switch;
      const a = `dl${link.switchIface}a`;
      const b = `dl${link.switchIface}b`;
      // splice: switch port ↔ relay ↔ veth a/b ↔ the switch (b takes the port's place on the bridge)
      if (link.kind === 'net') {
        const trunks = await switchTrunks(state, link.switchIface);
        await ipBatch(quiet([`link add ${a} type veth peer name ${b}`, `link set ${a} up`, `link set ${b} up`]), { netns: sw.netns });
        await vsctl(sw.rundir, ['--', 'del-port', sw.netBridge, link.switchIface, '--', 'add-port', sw.netBridge, b, '--', 'set', 'Port', b, `trunks=[${trunks.join(',')}]`]);
      } else {
        const br = link.kind === 'mgmt' ? sw.mgmtBridge : sw.storageBridge;
        await ipBatch(quiet([`link add ${a} type veth peer name ${b}`, `link set ${link.switchIface} nomaster`, `link set ${a} up`, `link set ${b} master ${br} up`]), { netns: sw.netns });
      }
      await run('ethtool', ['-K', a, 'tx', 'off', 'tso', 'off', 'gso', 'off'], { netns: sw.netns, allowFail: true });
      await run('ethtool', ['-K', link.switchIface, 'tx', 'off', 'tso', 'off', 'gso', 'off'], { netns: sw.netns, allowFail: true });
      const script = join(state.dir, 'relay.py');
      await writeFile(script, RELAY_PY);
      const pid = spawnDaemon(sw.netns, '/usr/bin/python3', [script, link.switchIface, a, String(ms)], join(state.dir, `relay-${link.switchIface}.log`));
      state.extraPids.push(pid);
      return {
        name, args: { link: `${link.node.name}:${link.kind}`, ms },
        summary: `${ms} ms added each way on ${link.node.name} ${link.nodeIface} (${link.kind}) by a userspace relay`,
        undo: { kind: link.kind, swPort: link.switchIface, a, b, pid },
      };
    }
  }
}

async function undoFault(state: LabState, f: LabFaultRecord): Promise<void> {
  const u = f.undo as Record<string, any>;
  switch (f.name) {
    case 'vlan-translation': {
      const node = nodeOf(state, u.node);
      await addFlows(node.rundir, 'br-eth1', [physTranslationFlow(node, u.lvid, u.vid)]);
      return;
    }
    case 'vlan-not-trunked':
      await vsctl(state.switch.rundir, ['set', 'Port', u.swPort, `trunks=[${(u.trunks as number[]).join(',')}]`]);
      return;
    case 'dnsmasq-stopped': {
      const net = networkOf(state, u.network);
      if (!net.dhcp.pid || !pidAlive(net.dhcp.pid)) await startDnsmasq(state, net);
      return;
    }
    case 'mac-missing': {
      const net = networkOf(state, u.network);
      await writeFile(net.dhcp.hostsFile, hostsFileText(state, net));
      if (net.dhcp.pid && pidIsOurs(net.dhcp.pid, `${state.dir}/`) && pidAlive(net.dhcp.pid)) process.kill(net.dhcp.pid, 'SIGHUP');
      return;
    }
    case 'qvo-removed': {
      const port = portOf(state, u.port);
      const node = nodeOf(state, port.node);
      await vsctl(node.rundir, plugPortCmds(port, node.localVlans[port.networkId]!));
      return;
    }
    case 'tap-detached': {
      const port = portOf(state, u.port);
      await ipBatch([`link set ${port.devices.tap} master ${port.devices.qbr!} up`], { netns: nodeOf(state, port.node).netns });
      return;
    }
    case 'dead-vlan': {
      const port = portOf(state, u.port);
      const node = nodeOf(state, port.node);
      await vsctl(node.rundir, ['set', 'Port', port.hybrid ? port.devices.qvo! : port.devices.tap, `tag=${node.localVlans[port.networkId]}`]);
      return;
    }
    case 'mtu-mismatch': {
      const node = nodeOf(state, u.node);
      await ipBatch([`link set ${node.nics.net} mtu ${u.mtu}`], { netns: node.netns });
      return;
    }
    case 'nic-down': {
      const node = nodeOf(state, u.node);
      await ipBatch([`link set ${u.nic} up`], { netns: node.netns });
      return;
    }
    case 'vswitchd-stopped': {
      const node = nodeOf(state, u.node);
      if (pidAlive(node.pids.vswitchd)) return;
      node.pids.vswitchd = await startVswitchd(node.netns, node.rundir);
      await saveState(state);
      await vsctl(node.rundir, ['--', 'set', 'Open_vSwitch', '.', 'external_ids:steth-lab=ready']);
      const dhcpNets = state.networks.filter((n) => n.dhcp.node === node.name);
      // the old DHCP taps survive in their qdhcp namespaces (OVS makes them persistent); the new
      // ovs-vswitchd created fresh ones in the node namespace, which take their place
      for (const net of dhcpNets) await ipBatch([`link del ${net.dhcp.iface}`], { netns: net.dhcp.netns, force: true });
      await finishNode(state, node);
      // (peers' tunnel neighbour caches stay valid: br-eth1 keeps its fixed MAC. Flushing them would
      // not help anyway: ARP replies matching a cached datapath flow are never snooped again.)
      // dnsmasq was bound to the DHCP ports the old vswitchd owned
      for (const net of dhcpNets) {
        if (net.dhcp.pid) await stopPids([net.dhcp.pid], `${state.dir}/`);
        await startDnsmasq(state, net);
      }
      return;
    }
    case 'vxlan-remote-wrong': {
      const node = nodeOf(state, u.node);
      await vsctl(node.rundir, ['set', 'Interface', u.port, `options:remote_ip=${u.remote}`]);
      return;
    }
    case 'underlay-missing': {
      const node = nodeOf(state, u.node);
      await programNode(state, node);
      return;
    }
    case 'loss':
      for (const e of u.ends as { netns: string; dev: string; ifb: string }[]) {
        await run('tc', ['-n', e.netns, 'qdisc', 'del', 'dev', e.dev, 'clsact'], { allowFail: true });
        await ipBatch([`link del ${e.ifb}`], { netns: e.netns, force: true });
      }
      return;
    case 'delay': {
      const sw = state.switch;
      await stopPids([u.pid], `${state.dir}/`);
      state.extraPids = state.extraPids.filter((p) => p !== u.pid);
      await ipBatch([`link del ${u.a}`], { netns: sw.netns, force: true });
      if (u.kind === 'net') {
        const trunks = await switchTrunks(state, u.b).catch(() => [0, ...state.trunkedVlans]);
        await vsctl(sw.rundir, ['--', '--if-exists', 'del-port', sw.netBridge, u.b, '--', 'add-port', sw.netBridge, u.swPort, '--', 'set', 'Port', u.swPort, `trunks=[${trunks.join(',')}]`]);
      } else {
        await ipBatch([`link set ${u.swPort} master ${u.kind === 'mgmt' ? sw.mgmtBridge : sw.storageBridge} up`], { netns: sw.netns });
      }
      return;
    }
  }
}

/** Undo every active fault, newest first; returns what was healed. */
export async function labHeal(prefix: string, opts: { baseDir?: string } = {}): Promise<LabFaultRecord[]> {
  const state = await mustLoad(prefix, opts.baseDir);
  const healed: LabFaultRecord[] = [];
  while (state.faults.length > 0) {
    const f = state.faults[state.faults.length - 1]!;
    await undoFault(state, f);
    state.faults.pop();
    healed.push(f);
    await saveState(state);
  }
  return healed;
}
