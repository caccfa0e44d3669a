/**
 * DHCP probe, agent side. What the node knows about a port (OVSDB + links + flows), the
 * DHCP servers it hosts (qdhcp namespaces, dnsmasq, hostsfile) and the exchange itself:
 * a DISCOVER sent as the VM where the original steth did (the port's qvb; for a port
 * plugged straight into br-int an OpenFlow packet-out as if received on its OVS port),
 * then OFFER (and with `full` REQUEST → ACK → RELEASE, so no lease is kept).
 * Plus the original calls check_dhcp_on_comp / check_dhcp_on_net in their envelope.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { implement, type AgentContext, type MethodImpl } from '../../src/rpc/method.js';
import { run } from '../../src/host/exec.js';
import { ovsSnapshot, type OvsSnapshot } from '../../src/host/ovs.js';
import { dumpFlowsOverSocket } from '../../src/host/openflow.js';
import { runJson } from '../../src/host/exec.js';
import { ipJson } from '../../src/host/ipbatch.js';
import { StethError } from '../../src/errors.js';
import { assertBridgeName, assertIfName, assertNetnsName, assertUuid, parseIPv4, parseMac } from '../../src/validate.js';
import { openCapture, inject, type Capture, type CapturedFrame } from '../../src/capture/index.js';
import { arpRequest, decodeFrame, dhcpDiscover, dhcpGet, dhcpMessageType, dhcpRelease, dhcpRequest, encodeFrame } from '../../src/packet/index.js';
import type { ArpRepr, DhcpRepr } from '../../src/packet/index.js';
import { checkDhcpOnComp, checkDhcpOnNet, dhcpArpFromQdhcp, dhcpExchange, dhcpHostEntry, dhcpPortInfo, dhcpServers } from './contract.js';
import type { DeviceFact, DhcpServerFacts, ExchangeResult, OfferSummary, PortNodeFacts } from './model.js';
import { hostsFileEntry, parseDnsmasqArgs, segmentationFromFlows } from './parse.js';
import { findDnsmasq, type DnsmasqProc } from './procs.js';
import { offerSummary } from './frames.js';
import { dhcpTypeName } from './correlate.js';

// ---------------------------------------------------------------- node facts

export function rundirOf(ovsdb: string | undefined): string {
  const m = ovsdb ? /^unix:(\/.+)$/.exec(ovsdb) : null;
  return m ? dirname(m[1]!) : '/var/run/openvswitch';
}

export async function vswitchdRunning(rundir: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(join(rundir, 'ovs-vswitchd.pid'), 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    return comm.startsWith('ovs-vswitchd');
  } catch {
    return false;
  }
}

/** A bridge's flows as ovs-ofctl prints them: over its management socket (OpenFlow 1.3), else ovs-ofctl (1.3, then its default). */
async function dumpFlows(rundir: string, bridge: string, signal?: AbortSignal): Promise<string[] | undefined> {
  const socket = join(rundir, `${assertBridgeName(bridge)}.mgmt`);
  try {
    return await dumpFlowsOverSocket(socket, signal ? { signal } : {});
  } catch (e) {
    if ((e as StethError).code === 'ECANCELED') return undefined;
  }
  const target = `unix:${socket}`;
  for (const proto of [['-O', 'OpenFlow13'], []]) {
    const r = await run('ovs-ofctl', [...proto, 'dump-flows', '--no-stats', target], { allowFail: true, timeoutMs: 5000, ...(signal ? { signal } : {}) });
    if (r.code === 0) return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.includes('actions='));
  }
  return undefined;
}

interface VxlanPort {
  name: string;
  localIp?: string;
  remoteIp?: string;
}

/** The link facts the check needs, from one `ip -json -details addr show` (netlink: no sysfs, no stats). */
interface Link {
  name: string;
  state: string;
  adminUp: boolean;
  mtu: number;
  mac: string | null;
  kind: string | null;
  master: string | null;
  /** veth peer / lower device name when in this namespace */
  link: string | null;
  addresses: { family: string; address: string; prefix: number }[];
}

interface IpJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  link_type?: string;
  master?: string;
  link?: string | null;
  link_index?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

export async function ipLinks(netns?: string, signal?: AbortSignal): Promise<Link[]> {
  // this namespace: the agent's long-lived `ip -batch` (no fork per request); another: a one-shot `ip -n`
  const raw =
    netns === undefined
      ? await ipJson<IpJson[]>(['addr', 'show'], signal ? { signal } : {})
      : await runJson<IpJson[]>('ip', ['-n', assertNetnsName(netns), '-json', '-details', 'addr', 'show'], { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
  const byIndex = new Map(raw.map((l) => [l.ifindex, l.ifname]));
  return raw.map((l) => ({
    name: l.ifname,
    state: l.operstate ?? 'UNKNOWN',
    adminUp: (l.flags ?? []).includes('UP'),
    mtu: l.mtu ?? 0,
    mac: l.address && l.link_type !== 'none' ? l.address : null,
    kind: l.linkinfo?.info_kind ?? null,
    master: l.master ?? null,
    link: l.link ?? (l.link_index !== undefined ? (byIndex.get(l.link_index) ?? null) : null),
    addresses: (l.addr_info ?? []).filter((a) => typeof a.local === 'string').map((a) => ({ family: a.family ?? '', address: a.local!, prefix: a.prefixlen ?? 0 })),
  }));
}

function fact(links: Map<string, Link>, name: string): DeviceFact {
  const l = links.get(name);
  if (!l) return { name, exists: false };
  const f: DeviceFact = { name, exists: true, state: l.state, adminUp: l.adminUp, mtu: l.mtu };
  if (l.master) f.master = l.master;
  if (l.link) f.peer = l.link;
  if (l.kind) f.kind = l.kind;
  if (l.mac) f.mac = l.mac;
  return f;
}

interface NodeView {
  snap: OvsSnapshot | null;
  links: Map<string, Link>;
  rundir: string;
  vswitchd: boolean;
  vxlan: VxlanPort[];
  warnings: string[];
  /** flow tables of the bridges next to the integration bridge, read once per view (shared by the copies nodeView hands out) */
  flows: { dumps?: Promise<Array<{ bridge: string; lines: string[] }>> };
}

// dhcp.portInfo and dhcp.servers arrive together from one check: they share one view of the node
let recentView: { at: number; ovsdb: string | undefined; view: Promise<NodeView> } | undefined;
const VIEW_TTL_MS = 250;

async function nodeView(ctx: AgentContext): Promise<NodeView> {
  const now = Date.now();
  if (recentView && recentView.ovsdb === ctx.ovsdb && now - recentView.at < VIEW_TTL_MS) {
    const v = await recentView.view;
    return { ...v, warnings: [...v.warnings] };
  }
  const view = freshNodeView(ctx);
  recentView = { at: now, ovsdb: ctx.ovsdb, view };
  view.catch(() => {
    if (recentView?.view === view) recentView = undefined;
  });
  const v = await view;
  return { ...v, warnings: [...v.warnings] };
}

async function freshNodeView(ctx: AgentContext): Promise<NodeView> {
  const warnings: string[] = [];
  const rundir = rundirOf(ctx.ovsdb);
  const snapshot = async (): Promise<OvsSnapshot | null> => {
    try {
      return await ovsSnapshot(ctx.ovsdb ?? `unix:${join(rundir, 'db.sock')}`, { signal: ctx.signal });
    } catch (e) {
      warnings.push(`OVSDB: ${(e as Error).message}`);
      return null;
    }
  };
  const [snap, links, vswitchd] = await Promise.all([snapshot(), ipLinks(undefined, ctx.signal), vswitchdRunning(rundir)]);
  const vxlan: VxlanPort[] = (snap?.ports ?? [])
    .filter((p) => p.type === 'vxlan')
    .map((p) => {
      const o = snap!.options[p.name] ?? {};
      return { name: p.name, ...(o.local_ip ? { localIp: o.local_ip } : {}), ...(o.remote_ip ? { remoteIp: o.remote_ip } : {}) };
    });
  return { snap, links: new Map(links.map((l) => [l.name, l])), rundir, vswitchd, vxlan, warnings, flows: {} };
}

/** The NIC carrying tenant traffic: given, or the system port of a bridge patched to the integration bridge / holding the underlay. */
function uplinkOf(v: NodeView, intBridge: string | undefined, given: string | undefined): DeviceFact | undefined {
  if (given) return fact(v.links, assertIfName(given));
  if (!v.snap) return undefined;
  const snap = v.snap;
  const bridges = snap.bridges.map((b) => b.name).filter((b) => b !== intBridge);
  const underlayIps = new Set(v.vxlan.map((x) => x.localIp).filter((x): x is string => !!x));
  const holdsUnderlay = (b: string): boolean => [...v.links.values()].some((l) => l.name === b && l.addresses.some((a) => underlayIps.has(a.address)));
  const scored = bridges
    .map((b) => {
      const ports = snap.ports.filter((p) => p.bridge === b);
      if (ports.some((p) => p.type === 'vxlan' || p.type === 'gre' || p.type === 'geneve')) return undefined;
      const system = ports.filter((p) => p.type === '' && p.name !== b && v.links.has(p.name));
      if (system.length === 0) return undefined;
      const score = (ports.some((p) => p.type === 'patch') ? 1 : 0) + (holdsUnderlay(b) ? 2 : 0);
      return { b, nic: system[0]!.name, score };
    })
    .filter((x): x is { b: string; nic: string; score: number } => x !== undefined)
    .sort((a, b) => b.score - a.score);
  return scored[0] ? fact(v.links, scored[0].nic) : undefined;
}

async function segmentationOf(v: NodeView, intBridge: string, localVlan: number | null): Promise<PortNodeFacts['segmentation']> {
  if (localVlan === null || !v.snap || !v.vswitchd) return undefined;
  const snap = v.snap;
  // translation lives on the bridges next to the integration bridge, not on it (its access ports carry tags)
  const integration = new Set(snap.ports.filter((p) => p.tag !== null).map((p) => p.bridge));
  integration.add(intBridge);
  // shared by the calls that use this view: not tied to one request's signal (the reads are bounded by their own timeouts)
  v.flows.dumps ??= Promise.all(snap.bridges.filter((b) => !integration.has(b.name)).map(async (b) => ({ bridge: b.name, lines: (await dumpFlows(v.rundir, b.name)) ?? [] })));
  const dumps = (await v.flows.dumps).filter((d) => d.bridge !== intBridge);
  return segmentationFromFlows(dumps, localVlan);
}

function underlayOf(v: NodeView): PortNodeFacts['underlay'] {
  if (v.vxlan.length === 0) return undefined;
  const u: NonNullable<PortNodeFacts['underlay']> = { remotes: [...new Set(v.vxlan.map((x) => x.remoteIp).filter((x): x is string => !!x))] };
  const local = v.vxlan.find((x) => x.localIp)?.localIp;
  if (local) u.localIp = local;
  return u;
}

export async function portInfo(ctx: AgentContext, portId: string, uplink?: string): Promise<{ found: boolean; facts: PortNodeFacts }> {
  const id = assertUuid(portId, 'port id');
  const v = await nodeView(ctx);
  const norm = id.replace(/-/g, '');
  const port = v.snap?.ports.find((p) => (p.externalIds['iface-id'] ?? '').toLowerCase().replace(/-/g, '') === norm);
  const facts: PortNodeFacts = { node: ctx.nodeName, ovs: null, devices: {}, vswitchdRunning: v.vswitchd, warnings: [...v.warnings] };
  let found = false;
  if (port) {
    found = true;
    facts.ovs = { name: port.name, bridge: port.bridge, tag: port.tag, ofport: port.ofport, externalIds: port.externalIds, error: port.error };
    const dev = v.links.get(port.name);
    const peer = dev?.kind === 'veth' && dev.link ? v.links.get(dev.link) : undefined;
    const bridgeOfPeer = peer?.master ? v.links.get(peer.master) : undefined;
    const suffix = port.name.length > 3 ? port.name.slice(3) : '';
    if (peer && bridgeOfPeer && bridgeOfPeer.kind === 'bridge') {
      // hybrid: qvo (on OVS) ↔ qvb (on a linux bridge qbr) ↔ tap
      facts.devices.qvo = fact(v.links, port.name);
      facts.devices.qvb = fact(v.links, peer.name);
      facts.devices.qbr = fact(v.links, bridgeOfPeer.name);
      const members = [...v.links.values()].filter((l) => l.master === bridgeOfPeer.name && l.name !== peer.name).map((l) => l.name);
      const tap = members.find((m) => m.startsWith('tap')) ?? members[0] ?? `tap${suffix}`;
      facts.devices.tap = fact(v.links, tap);
    } else if (port.name.startsWith('qvo') && v.links.has(`qvb${suffix}`)) {
      // the veth peer is there but not on a bridge (or in another namespace): still hybrid by name
      facts.devices.qvo = fact(v.links, port.name);
      facts.devices.qvb = fact(v.links, `qvb${suffix}`);
      facts.devices.qbr = fact(v.links, `qbr${suffix}`);
      facts.devices.tap = fact(v.links, `tap${suffix}`);
    } else {
      facts.devices.tap = fact(v.links, port.name);
    }
    const seg = await segmentationOf(v, port.bridge, port.tag);
    if (seg) facts.segmentation = seg;
  } else {
    // no OVS interface carries the iface-id: look for the devices os-vif would have named
    const suffix = id.slice(0, 11);
    for (const role of ['tap', 'qbr', 'qvb', 'qvo'] as const) {
      const f = fact(v.links, `${role}${suffix}`);
      if (f.exists) {
        facts.devices[role] = f;
        found = true;
      }
    }
    if (found) for (const role of ['tap', 'qbr', 'qvb', 'qvo'] as const) facts.devices[role] ??= fact(v.links, `${role}${suffix}`);
  }
  if (found) {
    const up = uplinkOf(v, port?.bridge ?? 'br-int', uplink);
    if (up) facts.uplink = up;
    else facts.warnings.push('could not tell which NIC carries tenant traffic (give the physical interface)');
    const u = underlayOf(v);
    if (u) facts.underlay = u;
  }
  return { found, facts };
}

// ---------------------------------------------------------------- DHCP servers

let recentProcs: { at: number; procs: DnsmasqProc[] } | undefined;

/** dnsmasq processes covering the namespace inodes `wanted` (procs.ts), remembered for half a second (servers → hostEntry). */
function dnsmasqProcs(wanted: readonly number[]): DnsmasqProc[] {
  const recent = recentProcs;
  if (recent && Date.now() - recent.at < 500 && wanted.every((ino) => recent.procs.some((p) => p.nsIno === ino))) return recent.procs;
  const { procs } = findDnsmasq(wanted, recent?.procs ?? []);
  recentProcs = { at: Date.now(), procs };
  return procs;
}

async function netnsIno(netns: string): Promise<number | undefined> {
  try {
    return (await stat(`/run/netns/${assertNetnsName(netns)}`)).ino;
  } catch {
    return undefined;
  }
}

/** dnsmasq serving `netns` (by the process's network namespace) and the hostsfile line for `mac`. */
async function dnsmasqOf(netns: string, networkId: string, procs: DnsmasqProc[], mac: string | undefined) {
  const out: { dnsmasq: DhcpServerFacts['dnsmasq']; hostsFileRead: boolean; hostEntry?: NonNullable<DhcpServerFacts['hostEntry']>; warnings: string[] } = {
    dnsmasq: { running: false },
    hostsFileRead: false,
    warnings: [],
  };
  const ino = await netnsIno(netns);
  const proc = ino === undefined ? undefined : procs.find((p) => p.nsIno === ino);
  let hostsFile: string | undefined;
  if (proc) {
    const a = parseDnsmasqArgs(proc.argv);
    out.dnsmasq = { running: true, pid: proc.pid };
    if (a.hostsFile) out.dnsmasq.hostsFile = hostsFile = a.hostsFile;
    if (a.leaseFile) out.dnsmasq.leaseFile = a.leaseFile;
  } else {
    hostsFile = `/var/lib/neutron/dhcp/${networkId}/host`;
  }
  if (hostsFile && mac) {
    try {
      const text = await readFile(hostsFile, 'utf8');
      out.hostsFileRead = true;
      const e = hostsFileEntry(text, mac);
      if (e) out.hostEntry = e;
    } catch {
      if (proc) out.warnings.push(`cannot read dnsmasq's hostsfile ${hostsFile}`);
    }
  }
  return out;
}

export async function hostEntry(netns: string, macIn: string) {
  const mac = parseMac(macIn);
  if (!netns.startsWith('qdhcp-')) throw new StethError('EINVAL', `'${netns}' is not a qdhcp namespace`);
  const ino = await netnsIno(netns);
  const h = await dnsmasqOf(netns, netns.slice('qdhcp-'.length), dnsmasqProcs(ino === undefined ? [] : [ino]), mac);
  return { hostsFileRead: h.hostsFileRead, ...(h.dnsmasq.hostsFile ? { hostsFile: h.dnsmasq.hostsFile } : {}), ...(h.hostEntry ? { hostEntry: h.hostEntry } : {}) };
}

export async function servers(ctx: AgentContext, opts: { mac?: string; networkId?: string; uplink?: string }): Promise<DhcpServerFacts[]> {
  const mac = opts.mac ? parseMac(opts.mac) : undefined;
  let names: string[] = [];
  try {
    names = (await readdir('/run/netns')).filter((n) => n.startsWith('qdhcp-') && (!opts.networkId || n === `qdhcp-${opts.networkId.toLowerCase()}`));
  } catch {
    names = [];
  }
  if (names.length === 0) return [];
  const v = await nodeView(ctx);
  if (!v.snap) return [];
  const snap = v.snap;
  // DHCP ports are OVS internal ports moved out of this namespace: without one, nothing here serves DHCP
  const moved = new Set(snap.ports.filter((p) => p.type === 'internal' && p.name !== p.bridge && !v.links.has(p.name)).map((p) => p.name));
  if (moved.size === 0) return [];
  const out: DhcpServerFacts[] = [];
  // fast path: a running dnsmasq shows its namespace's interfaces in /proc; only namespaces
  // left over (dnsmasq stopped) are entered with `ip -n`
  const inos = await Promise.all(names.map(async (netns) => ({ netns, ino: (await netnsIno(netns)) ?? -1 })));
  const procs = dnsmasqProcs(inos.filter((x) => x.ino >= 0).map((x) => x.ino));
  const found: Array<{ netns: string; dev: Pick<Link, 'name'> & Partial<Link> }> = [];
  const left = new Set(moved);
  for (const { netns, ino } of inos) {
    const proc = procs.find((p) => p.nsIno === ino);
    const name = proc?.ifaces.find((i) => moved.has(i));
    if (name) {
      found.push({ netns, dev: { name } });
      left.delete(name);
    }
  }
  if (left.size > 0) {
    const rest = names.filter((n) => !found.some((f) => f.netns === n));
    const nsLinks = await Promise.all(rest.map(async (netns) => ({ netns, links: await ipLinks(netns, ctx.signal).catch(() => [] as Link[]) })));
    for (const { netns, links } of nsLinks) {
      const dev = links.find((l) => left.has(l.name));
      if (dev) found.push({ netns, dev });
    }
  }
  for (const { netns, dev } of found) {
    const ovsPort = snap.ports.find((p) => p.name === dev.name)!;
    const s: DhcpServerFacts = {
      node: ctx.nodeName,
      netns,
      networkId: netns.slice('qdhcp-'.length),
      iface: dev.name,
      ips: (dev.addresses ?? []).filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefix}`),
      localVlan: ovsPort.tag,
      dnsmasq: { running: false },
      hostsFileRead: false,
      vswitchdRunning: v.vswitchd,
      warnings: [],
    };
    if (dev.mac) s.mac = dev.mac;
    const h = await dnsmasqOf(netns, s.networkId, procs, mac);
    s.dnsmasq = h.dnsmasq;
    s.hostsFileRead = h.hostsFileRead;
    if (h.hostEntry) s.hostEntry = h.hostEntry;
    s.warnings.push(...h.warnings);
    const seg = await segmentationOf(v, ovsPort.bridge, ovsPort.tag);
    if (seg) s.segmentation = { type: seg.type, id: seg.id };
    const up = uplinkOf(v, ovsPort.bridge, opts.uplink);
    if (up) s.uplink = up;
    const u = underlayOf(v);
    if (u) s.underlay = u;
    out.push(s);
  }
  return out;
}

// ---------------------------------------------------------------- the exchange

const nowNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;

interface Reply {
  tsNs: string;
  type: number;
  dhcp: DhcpRepr;
  summary: OfferSummary;
}

/** Wait for a DHCP reply of one of `types` for xid on an open capture. */
async function waitReply(cap: Capture, xid: number, types: number[], deadline: number, signal: AbortSignal): Promise<Reply | undefined> {
  while (Date.now() < deadline && !signal.aborted) {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), Math.max(1, deadline - Date.now()));
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let batch: CapturedFrame[];
    try {
      batch = await cap.nextBatch({ signal: ac.signal });
    } finally {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
    }
    for (const f of batch) {
      const { layers } = decodeFrame(f.bytes);
      const d = layers.find((l): l is DhcpRepr => l.layer === 'dhcp');
      if (!d || d.op !== 2 || d.xid !== xid) continue;
      const type = dhcpMessageType(d) ?? 0;
      if (!types.includes(type)) continue;
      return { tsNs: String(f.tsNs), type, dhcp: d, summary: offerSummary(layers)! };
    }
    if (cap.closed) break;
  }
  return undefined;
}

export interface ExchangeParams {
  mode: 'pcap' | 'packet-out';
  iface: string;
  netns?: string;
  bridge?: string;
  ofport?: number;
  mac: string;
  xid: number;
  full?: boolean;
  waitMs?: number;
}

/** pcap mode: out through `cap`, the capture listening for the replies on the same device
 *  (one socket, armed before the first frame leaves; it never sees its own frames). */
async function send(ctx: AgentContext, p: ExchangeParams, frame: Buffer, cap: Capture): Promise<void> {
  if (p.mode === 'pcap') {
    cap.send(frame);
    return;
  }
  if (!p.bridge || !p.ofport) throw new StethError('EINVAL', 'packet-out needs bridge and ofport');
  const target = `unix:${join(rundirOf(ctx.ovsdb), `${assertBridgeName(p.bridge)}.mgmt`)}`;
  const spec = `in_port=${p.ofport},packet=${frame.toString('hex')},actions=NORMAL`;
  const r = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'packet-out', target, spec], { allowFail: true, timeoutMs: 5000, signal: ctx.signal });
  if (r.code !== 0) {
    const r2 = await run('ovs-ofctl', ['packet-out', target, spec], { allowFail: true, timeoutMs: 5000, signal: ctx.signal });
    if (r2.code !== 0) throw new StethError('ETOOL', `ovs-ofctl packet-out on ${p.bridge} failed: ${(r.stderr || r2.stderr).trim().split('\n').pop() ?? ''}`, { hint: 'is ovs-vswitchd running?' });
  }
}

export async function exchange(ctx: AgentContext, p: ExchangeParams): Promise<ExchangeResult> {
  const mac = parseMac(p.mac);
  assertIfName(p.iface);
  const waitMs = p.waitMs ?? 3000;
  const result: ExchangeResult = { xid: p.xid, sentTsNs: '0', offers: [], released: false };
  // listen where replies come back to the VM: the injection device (qvb) or the OVS port (tap)
  let cap: Capture;
  try {
    // a small ring: the filter admits only this exchange (see engine.ts HOP_RING_BYTES)
    cap = await openCapture({ iface: p.iface, ...(p.netns ? { netns: p.netns } : {}), filter: { dhcpXid: p.xid }, bufferSize: 1 << 20, ...(p.mode === 'pcap' ? { direction: 'in' as const } : {}) });
  } catch (e) {
    result.error = `cannot capture on ${p.iface}: ${(e as Error).message}`;
    return result;
  }
  try {
    const discover = encodeFrame(dhcpDiscover({ mac, xid: p.xid }));
    // retransmit like a DHCP client (RFC 2131 §4.1 backs off; we start at 400 ms): a first
    // frame can be lost while a userspace VXLAN tunnel resolves its next hop
    const deadline = Date.now() + waitMs;
    let offer: Reply | undefined;
    let backoff = 400;
    result.attempts = 0;
    while (!offer && Date.now() < deadline && !ctx.signal.aborted) {
      const sent = nowNs();
      try {
        await send(ctx, p, discover, cap);
      } catch (e) {
        result.error = (e as Error).message;
        return result;
      }
      if (result.attempts === 0) result.sentTsNs = String(sent);
      result.attempts++;
      offer = await waitReply(cap, p.xid, [2], Math.min(deadline, Date.now() + backoff), ctx.signal);
      backoff *= 2;
    }
    if (!offer) return result;
    result.offers.push({ tsNs: offer.tsNs, ...offer.summary });
    // other servers answering within a few ms (multiple DHCP agents) are picked up without waiting
    for (const f of cap.take()) {
      const { layers } = decodeFrame(f.bytes);
      const d = layers.find((l): l is DhcpRepr => l.layer === 'dhcp');
      if (d && d.op === 2 && d.xid === p.xid && dhcpMessageType(d) === 2) result.offers.push({ tsNs: String(f.tsNs), ...offerSummary(layers)! });
    }
    if (!p.full) return result;
    const serverId = dhcpGet(offer.dhcp, 'serverId') ?? offer.summary.server;
    const req = encodeFrame(dhcpRequest({ mac, xid: p.xid, requestedIp: offer.dhcp.yiaddr, serverId }));
    await send(ctx, p, req, cap);
    const ack = await waitReply(cap, p.xid, [5, 6], Date.now() + waitMs, ctx.signal);
    if (ack?.type === 5) result.ack = { tsNs: ack.tsNs, ...ack.summary };
    else if (ack?.type === 6) {
      result.nak = { tsNs: ack.tsNs };
      const m = dhcpGet(ack.dhcp, 'message');
      if (m) result.nak.message = m;
    }
    if (ack?.type === 5) {
      const rel = encodeFrame(dhcpRelease({ mac, xid: p.xid, clientIp: ack.dhcp.yiaddr, serverId, serverMac: offer.summary.serverMac }));
      await send(ctx, p, rel, cap);
      result.released = true;
    }
    return result;
  } finally {
    void cap.close();
  }
}

// ---------------------------------------------------------------- ARP from the qdhcp namespace

export async function arpFromQdhcp(ctx: AgentContext, opts: { networkId: string; ip: string; uplink?: string; waitMs?: number }) {
  const ip = parseIPv4(opts.ip);
  const netns = `qdhcp-${assertUuid(opts.networkId, 'network id')}`;
  const [srv] = await servers(ctx, { networkId: opts.networkId, ...(opts.uplink ? { uplink: opts.uplink } : {}) });
  if (!srv || !srv.iface) throw new StethError('ENOENT', `no DHCP port of network ${opts.networkId} in ${netns} on ${ctx.nodeName}`, { hint: 'is this the node that serves DHCP for the network?' });
  const dev = (await ipLinks(netns, ctx.signal)).find((l) => l.name === srv.iface);
  if (!dev?.mac) throw new StethError('ENOENT', `the DHCP port ${srv.iface} in ${netns} has no MAC`);
  srv.mac = dev.mac;
  const srcIp = dev.addresses.find((a) => a.family === 'inet')?.address;
  if (!srcIp) throw new StethError('ENOENT', `the DHCP port ${srv.iface} in ${netns} has no IPv4 address`);
  const v = await nodeView(ctx);
  const ovsPort = v.snap?.ports.find((p) => p.name === srv.iface);
  const watch: Array<{ device: string; netns?: string }> = [{ device: srv.iface, netns }];
  if (ovsPort) watch.push({ device: ovsPort.bridge });
  if (srv.uplink && v.snap) {
    const physBridge = v.snap.ports.find((p) => p.name === srv.uplink!.name)?.bridge;
    if (physBridge) watch.push({ device: physBridge });
    watch.push({ device: srv.uplink.name });
  }
  const filter = { or: [{ arp: true, ip }] };
  const caps: Array<{ device: string; netns?: string; cap?: Capture; error?: string }> = await Promise.all(
    watch.map(async (w) => {
      try {
        return { ...w, cap: await openCapture({ iface: w.device, ...(w.netns ? { netns: w.netns } : {}), filter }) };
      } catch (e) {
        return { ...w, error: (e as Error).message };
      }
    }),
  );
  try {
    const frame = encodeFrame(arpRequest({ senderMac: srv.mac, senderIp: srcIp, targetIp: ip }));
    await inject(srv.iface, frame, { netns });
    const first = caps[0]?.cap;
    let replyMac: string | undefined;
    const deadline = Date.now() + (opts.waitMs ?? 1000);
    const seen = new Map<string, string[]>();
    const record = (key: string, f: CapturedFrame): string | undefined => {
      const a = decodeFrame(f.bytes).layers.find((l): l is ArpRepr => l.layer === 'arp');
      if (!a) return undefined;
      const op = a.op === 1 ? 'request' : a.op === 2 ? 'reply' : `op${a.op}`;
      seen.set(key, [...(seen.get(key) ?? []), op]);
      return a.op === 2 && a.senderIp === ip ? a.senderMac : undefined;
    };
    // the reply comes back to the DHCP port: stop as soon as it is there
    while (first && !replyMac && Date.now() < deadline && !ctx.signal.aborted) {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), Math.max(1, deadline - Date.now()));
      const batch = await first.nextBatch({ signal: ac.signal });
      clearTimeout(t);
      for (const f of batch) replyMac = record(caps[0]!.device, f) ?? replyMac;
    }
    // the other devices saw both frames before the reply reached the DHCP port; their
    // batches may still be on the way to JS: read each until it has both, or a short grace
    const grace = Date.now() + (replyMac ? 200 : 0);
    await Promise.all(
      caps.slice(1).map(async (c) => {
        if (!c.cap) return;
        for (const f of c.cap.take()) record(c.device, f);
        while ((seen.get(c.device)?.length ?? 0) < 2 && Date.now() < grace) {
          const ac = new AbortController();
          const t = setTimeout(() => ac.abort(), Math.max(1, grace - Date.now()));
          const batch = await c.cap.nextBatch({ signal: ac.signal });
          clearTimeout(t);
          for (const f of batch) record(c.device, f);
        }
      }),
    );
    const out = {
      netns,
      iface: srv.iface,
      devices: caps.map((c) => ({ device: c.device, ...(c.netns ? { netns: c.netns } : {}), ops: seen.get(c.device) ?? [], ...(c.error ? { error: c.error } : {}) })),
      ...(replyMac ? { replyMac } : {}),
    };
    return out;
  } finally {
    for (const c of caps) void c.cap?.close();
  }
}

// ---------------------------------------------------------------- compat (original steth envelope)

function envelope(code: number, message: string, data: unknown = {}): { code: number; message: string; data: unknown } {
  return { code, message, data };
}

async function compatComp(ctx: AgentContext, p: { port_id: string; port_mac: string; phy_iface: string; net_type?: string | undefined }) {
  const { facts, found } = await portInfo(ctx, p.port_id, p.phy_iface);
  if (!found) return envelope(1, `port ${p.port_id} is not plugged on ${ctx.nodeName}`);
  const mac = parseMac(p.port_mac);
  const xid = (Math.random() * 0xffffffff) >>> 0;
  const points = (['tap', 'qbr', 'qvb', 'qvo'] as const).map((r) => ({ key: r, dev: facts.devices[r] })).filter((x) => x.dev?.exists);
  const all = [...points.map((x) => ({ key: x.key as string, iface: x.dev!.name })), { key: assertIfName(p.phy_iface), iface: p.phy_iface }];
  const caps = await Promise.all(
    all.map(async (x) => {
      try {
        return { ...x, cap: (await openCapture({ iface: x.iface, filter: { dhcpXid: xid } })) as Capture | undefined };
      } catch {
        return { ...x, cap: undefined };
      }
    }),
  );
  try {
    const qvb = facts.devices.qvb;
    const params: ExchangeParams =
      qvb?.exists
        ? { mode: 'pcap', iface: qvb.name, mac, xid, waitMs: 2000 }
        : { mode: 'packet-out', iface: facts.ovs?.name ?? '', bridge: facts.ovs?.bridge ?? 'br-int', ofport: facts.ovs?.ofport ?? 0, mac, xid, waitMs: 2000 };
    const r = await exchange(ctx, params);
    if (r.error) return envelope(1, r.error);
    // every device on the path saw the OFFER by now, but its batch may still be on the way to JS:
    // read each until its OFFER is in, or a short grace (a device the OFFER never reaches)
    const grace = Date.now() + (r.offers.length ? 200 : 0);
    const data: Record<string, string[]> = {};
    await Promise.all(
      caps.map(async (c) => {
        const types: string[] = [];
        const add = (fs: CapturedFrame[]): void => {
          for (const f of fs) {
            const d = decodeFrame(f.bytes).layers.find((l): l is DhcpRepr => l.layer === 'dhcp');
            if (d) types.push(dhcpTypeName(dhcpMessageType(d) ?? 0));
          }
        };
        if (c.cap) {
          add(c.cap.take());
          while (!types.includes('DHCPOFFER') && Date.now() < grace) {
            const ac = new AbortController();
            const t = setTimeout(() => ac.abort(), Math.max(1, grace - Date.now()));
            add(await c.cap.nextBatch({ signal: ac.signal }));
            clearTimeout(t);
          }
        }
        data[c.key] = types;
      }),
    );
    return envelope(0, '', data);
  } finally {
    for (const c of caps) void c.cap?.close();
  }
}

export const methods: MethodImpl[] = [
  implement(dhcpPortInfo, async (p, ctx) => await portInfo(ctx, p.portId, p.uplink)),
  implement(dhcpServers, async (p, ctx) => ({ servers: await servers(ctx, p) })),
  implement(dhcpExchange, async (p, ctx) => await exchange(ctx, p)),
  implement(dhcpHostEntry, async (p) => await hostEntry(p.netns, p.mac)),
  implement(dhcpArpFromQdhcp, async (p, ctx) => await arpFromQdhcp(ctx, p)),
  implement(checkDhcpOnComp, async (p, ctx) => {
    try {
      return await compatComp(ctx, p);
    } catch (e) {
      return envelope(1, (e as Error).message);
    }
  }),
  implement(checkDhcpOnNet, async (p, ctx) => {
    try {
      const r = await arpFromQdhcp(ctx, { networkId: p.net_id, ip: p.port_ip, uplink: p.phy_iface });
      return envelope(0, '', Object.fromEntries(r.devices.map((d) => [d.device, d.ops])));
    } catch (e) {
      return envelope(1, (e as Error).message);
    }
  }),
];
