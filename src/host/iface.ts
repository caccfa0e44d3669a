/**
 * Interface facts from `ip -json -details -statistics addr show` plus sysfs
 * (speed, duplex, driver) — no text scraping. Where iproute2 is missing,
 * `ifconfig -a` is the fallback (net-tools 2.x layout), marked source: 'ifconfig'.
 */
import { readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { run, runJson } from './exec.js';
import { StethError } from '../errors.js';
import { assertIfName } from '../validate.js';
import type { IfaceReport } from '../../probes/iface/contract.js';

export type { IfaceReport };

export interface HostOptions {
  netns?: string;
  signal?: AbortSignal;
}

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
  broadcast?: string;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  link_type?: string;
  address?: string;
  master?: string;
  link?: string | null;
  link_index?: number;
  txqlen?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
  addr_info?: IpAddrInfo[];
  stats64?: { rx?: Record<string, number>; tx?: Record<string, number> };
}

/** Every interface (or one, by name). */
export async function ifaceReport(name: string, opts?: HostOptions): Promise<IfaceReport>;
export async function ifaceReport(name?: undefined, opts?: HostOptions): Promise<IfaceReport[]>;
export async function ifaceReport(name?: string, opts: HostOptions = {}): Promise<IfaceReport | IfaceReport[]> {
  if (name !== undefined) assertIfName(name);
  let links: IpLink[];
  try {
    links = await ipAddrShow(opts);
  } catch (e) {
    if (e instanceof StethError && e.code === 'ETOOL' && /ip is not installed/.test(e.message) && opts.netns === undefined) {
      const all = await ifconfigReport();
      if (name === undefined) return all;
      const one = all.find((r) => r.name === name);
      if (!one) throw noSuchIface(name, opts.netns);
      return one;
    }
    throw e;
  }
  const byIndex = new Map(links.map((l) => [l.ifindex, l]));
  const chosen = name === undefined ? links : links.filter((l) => l.ifname === name);
  if (name !== undefined && chosen.length === 0) throw noSuchIface(name, opts.netns);
  const reports = await Promise.all(chosen.map((l) => toReport(l, links, byIndex, opts)));
  return name === undefined ? reports : reports[0]!;
}

/** Does this interface exist (in this namespace)? Validates the name first. */
export async function ifaceExists(name: string, opts: HostOptions = {}): Promise<boolean> {
  assertIfName(name);
  const r = await run('ip', ['-json', 'link', 'show', 'dev', name], { ...runOpts(opts), allowFail: true });
  return r.code === 0;
}

/** Throw ENOENT unless the interface exists — call before acting on a name. */
export async function assertIfaceExists(name: string, opts: HostOptions = {}): Promise<string> {
  if (!(await ifaceExists(name, opts))) throw noSuchIface(name, opts.netns);
  return name;
}

export function noSuchIface(name: string, netns?: string): StethError {
  return new StethError('ENOENT', `no interface '${name}'${netns ? ` in namespace ${netns}` : ''} on this node`, { hint: 'steth get-interface AGENT lists what exists (iface.list)' });
}

function runOpts(opts: HostOptions): { netns?: string; signal?: AbortSignal } {
  const o: { netns?: string; signal?: AbortSignal } = {};
  if (opts.netns !== undefined) o.netns = opts.netns;
  if (opts.signal !== undefined) o.signal = opts.signal;
  return o;
}

async function ipAddrShow(opts: HostOptions): Promise<IpLink[]> {
  const out = await runJson<IpLink[]>('ip', ['-json', '-details', '-statistics', 'addr', 'show'], runOpts(opts));
  if (!Array.isArray(out)) throw new StethError('ETOOL', 'ip -json addr show did not print a list');
  return out;
}

async function toReport(l: IpLink, all: IpLink[], byIndex: Map<number, IpLink>, opts: HostOptions): Promise<IfaceReport> {
  const flags = l.flags ?? [];
  const kind = l.linkinfo?.info_kind ?? null;
  const data = l.linkinfo?.info_data ?? {};
  const r: IfaceReport = {
    name: l.ifname,
    ifindex: l.ifindex,
    state: l.operstate ?? 'UNKNOWN',
    adminUp: flags.includes('UP'),
    lowerUp: flags.includes('LOWER_UP'),
    flags,
    mtu: l.mtu ?? 0,
    mac: l.address && l.link_type !== 'none' ? l.address : null,
    linkType: l.link_type ?? 'unknown',
    kind,
    master: l.master ?? null,
    link: l.link ?? (l.link_index !== undefined ? (byIndex.get(l.link_index)?.ifname ?? `if${l.link_index}`) : null),
    addresses: (l.addr_info ?? [])
      .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
      .map((a) => {
        const addr: IfaceReport['addresses'][number] = { family: a.family as 'inet' | 'inet6', address: a.local!, prefix: a.prefixlen ?? 0 };
        if (a.scope !== undefined) addr.scope = a.scope;
        if (a.broadcast !== undefined) addr.broadcast = a.broadcast;
        return addr;
      }),
    stats: l.stats64
      ? {
          rxBytes: l.stats64.rx?.bytes ?? 0,
          rxPackets: l.stats64.rx?.packets ?? 0,
          rxErrors: l.stats64.rx?.errors ?? 0,
          rxDropped: l.stats64.rx?.dropped ?? 0,
          txBytes: l.stats64.tx?.bytes ?? 0,
          txPackets: l.stats64.tx?.packets ?? 0,
          txErrors: l.stats64.tx?.errors ?? 0,
          txDropped: l.stats64.tx?.dropped ?? 0,
        }
      : null,
    speedMbps: null,
    duplex: null,
    driver: null,
    txQueueLen: l.txqlen ?? null,
    source: 'iproute2',
  };
  if (kind === 'vlan' && typeof data.id === 'number') r.vlan = { id: data.id, protocol: typeof data.protocol === 'string' ? data.protocol : '802.1Q' };
  if (kind === 'vxlan' && typeof data.id === 'number') {
    const vx: NonNullable<IfaceReport['vxlan']> = { id: data.id };
    if (typeof data.remote === 'string') vx.remote = data.remote;
    if (typeof data.local === 'string') vx.local = data.local;
    if (typeof data.port === 'number') vx.port = data.port;
    r.vxlan = vx;
  }
  if (kind === 'bridge') {
    const br: NonNullable<IfaceReport['bridge']> = { ports: all.filter((p) => p.master === l.ifname).map((p) => p.ifname) };
    if (typeof data.stp_state === 'number') br.stp = data.stp_state !== 0;
    if (typeof data.vlan_filtering === 'number') br.vlanFiltering = data.vlan_filtering !== 0;
    r.bridge = br;
  }
  if (kind === 'veth') r.veth = { peerIfindex: l.link_index ?? (l.link ? (all.find((p) => p.ifname === l.link)?.ifindex ?? null) : null) };
  if (opts.netns === undefined) Object.assign(r, await sysfsFacts(l.ifname));
  return r;
}

/** speed / duplex / driver from sysfs (null where the driver does not report them). */
export async function sysfsFacts(name: string): Promise<{ speedMbps: number | null; duplex: string | null; driver: string | null }> {
  const base = `/sys/class/net/${assertIfName(name)}`;
  const read = async (f: string): Promise<string | null> => {
    try {
      return (await readFile(`${base}/${f}`, 'utf8')).trim();
    } catch {
      return null; // EINVAL when the link is down, ENOENT for virtual devices
    }
  };
  const speedText = await read('speed');
  const speed = speedText !== null && /^\d+$/.test(speedText) ? Number(speedText) : null;
  const duplexText = await read('duplex');
  let driver: string | null = null;
  try {
    driver = basename(await readlink(`${base}/device/driver`));
  } catch {
    driver = null;
  }
  return { speedMbps: speed, duplex: duplexText === null || duplexText === 'unknown' ? null : duplexText, driver };
}

/** Fallback when iproute2 is missing: `ifconfig -a` (net-tools 2.x). */
export async function ifconfigReport(): Promise<IfaceReport[]> {
  const r = await run('ifconfig', ['-a']);
  return parseIfconfig(r.stdout);
}

export function parseIfconfig(text: string): IfaceReport[] {
  const out: IfaceReport[] = [];
  const blocks = text.split(/\n(?=\S)/);
  let idx = 0;
  for (const b of blocks) {
    const head = /^([^\s:]+):?\s+flags=\d+<([^>]*)>\s+mtu\s+(\d+)/.exec(b);
    if (!head) continue;
    idx++;
    const flags = head[2]!.split(',').filter(Boolean);
    const num = (re: RegExp): number => Number(re.exec(b)?.[1] ?? 0);
    const addresses: IfaceReport['addresses'] = [];
    for (const m of b.matchAll(/inet (\S+)\s+netmask (\S+)/g)) addresses.push({ family: 'inet', address: m[1]!, prefix: maskToPrefix(m[2]!) });
    for (const m of b.matchAll(/inet6 (\S+)\s+prefixlen (\d+)/g)) addresses.push({ family: 'inet6', address: m[1]!, prefix: Number(m[2]) });
    out.push({
      name: head[1]!,
      ifindex: idx,
      state: flags.includes('RUNNING') ? 'UP' : 'DOWN',
      adminUp: flags.includes('UP'),
      lowerUp: flags.includes('RUNNING'),
      flags,
      mtu: Number(head[3]),
      mac: /ether (\S+)/.exec(b)?.[1] ?? null,
      linkType: flags.includes('LOOPBACK') ? 'loopback' : 'ether',
      kind: null,
      master: null,
      link: null,
      addresses,
      stats: {
        rxPackets: num(/RX packets (\d+)/),
        rxBytes: num(/RX packets \d+\s+bytes (\d+)/),
        rxErrors: num(/RX errors (\d+)/),
        rxDropped: num(/RX errors \d+\s+dropped (\d+)/),
        txPackets: num(/TX packets (\d+)/),
        txBytes: num(/TX packets \d+\s+bytes (\d+)/),
        txErrors: num(/TX errors (\d+)/),
        txDropped: num(/TX errors \d+\s+dropped (\d+)/),
      },
      speedMbps: null,
      duplex: null,
      driver: null,
      txQueueLen: /txqueuelen (\d+)/.test(b) ? num(/txqueuelen (\d+)/) : null,
      source: 'ifconfig',
    });
  }
  return out;
}

function maskToPrefix(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).split('').filter((c) => c === '1').length, 0);
}

export interface IfaceBrief {
  name: string;
  state: string;
  mtu: number;
  mac: string | null;
  addresses: string[];
  kind: string | null;
}

/**
 * A cheap interface list for agent.hello: /sys/class/net + os.networkInterfaces(),
 * no process spawned (ifaceReport runs ip -json -details -statistics).
 */
export async function ifaceBriefs(): Promise<IfaceBrief[]> {
  const { readdir } = await import('node:fs/promises');
  const os = await import('node:os');
  const names = (await readdir('/sys/class/net')).sort();
  const nics = os.networkInterfaces();
  const read = async (n: string, f: string): Promise<string | null> => {
    try {
      return (await readFile(`/sys/class/net/${n}/${f}`, 'utf8')).trim();
    } catch {
      return null;
    }
  };
  return await Promise.all(
    names.map(async (name) => {
      const [state, mtu, mac, uevent] = await Promise.all([read(name, 'operstate'), read(name, 'mtu'), read(name, 'address'), read(name, 'uevent')]);
      const devtype = uevent ? /^DEVTYPE=(.+)$/m.exec(uevent)?.[1] ?? null : null;
      return {
        name,
        state: (state ?? 'unknown').toUpperCase(),
        mtu: Number(mtu ?? 0),
        mac: mac && mac !== '' ? mac : null,
        addresses: (nics[name] ?? []).map((a) => a.cidr ?? `${a.address}`),
        kind: devtype,
      };
    }),
  );
}
