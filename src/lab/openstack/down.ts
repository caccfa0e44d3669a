/**
 * Remove an OpenStack lab from its state file alone (also after a failed up; a
 * second down is a no-op):
 *   1. services by recorded PID — steth agents, relay, neutron agents and their
 *      dnsmasq, neutron-server, keystone, rabbit, epmd, mariadb — SIGTERM, then
 *      SIGKILL after ~10 s (agents and neutron-server can hang);
 *   2. `del-br` of every bridge, then ovs-vswitchd and ovsdb-server by PID;
 *   3. a last sweep of any process still living in one of the lab's namespaces;
 *   4. the namespaces (qdhcp-* of the lab's networks included), the root veth,
 *      the lab dir and its 10.X reservation.
 * Only PIDs living in the lab's own namespaces are ever signalled.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ipBatch, linkExists, listNetns, vsctl } from '../host.js';
import { assertPrefix, DEFAULT_BASE_DIR } from '../spec.js';
import { releaseOctet } from '../state.js';
import { netnsInode, pidsInNamespaces, pidsWithMarker, stopPids } from './procs.js';
import type { OpenstackLabState } from './types.js';

export interface OpenstackDownResult {
  prefix: string;
  removed: boolean;
  netns: number;
  pids: number;
}

export async function readOpenstackState(prefix: string, baseDir = DEFAULT_BASE_DIR): Promise<OpenstackLabState | undefined> {
  try {
    const s = JSON.parse(await readFile(join(baseDir, assertPrefix(prefix), 'state.json'), 'utf8')) as OpenstackLabState;
    return s.kind === 'openstack' && s.prefix === prefix ? s : undefined;
  } catch {
    return undefined;
  }
}

async function readPidFile(f: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(f, 'utf8')).trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function openstackDown(prefix: string, opts: { baseDir?: string; graceMs?: number } = {}): Promise<OpenstackDownResult> {
  const baseDir = opts.baseDir ?? DEFAULT_BASE_DIR;
  const s = await readOpenstackState(prefix, baseDir);
  if (!s) return { prefix, removed: false, netns: 0, pids: 0 };
  const grace = opts.graceMs ?? 10_000;

  // qdhcp namespaces of networks the DHCP agent served, also ones created after the last state save
  const netnsList = new Set(s.netnsList);
  for (const n of s.nodes) {
    for (const id of await readdir(join(n.rundir, 'state', 'dhcp')).catch(() => [] as string[])) {
      if (/^[0-9a-f-]{36}$/.test(id)) netnsList.add(`qdhcp-${id}`);
    }
  }
  const present = await listNetns();
  const mine = [...netnsList].filter((ns) => present.has(ns));
  const inodes = new Set(mine.map(netnsInode).filter((x): x is number => x !== undefined));

  let signalled = 0;
  const ovsPids: number[] = [];
  for (const n of s.nodes) {
    ovsPids.push(n.pids.vswitchd, n.pids.ovsdb);
    for (const f of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
      const p = await readPidFile(join(n.rundir, f));
      if (p) ovsPids.push(p);
    }
  }
  // 1. services (all at once; each gets the grace period)
  const servicePids = s.services.map((x) => x.pid);
  for (const f of [join(s.dir, 'keystone', 'uwsgi.pid'), join(s.dir, 'mysql', 'mysqld.pid'), join(s.dir, 'rabbit', 'rabbit.pid')]) {
    const p = await readPidFile(f);
    if (p) servicePids.push(p);
  }
  // dnsmasq of the DHCP agent and anything else in the qdhcp namespaces
  const qdhcpInodes = new Set(mine.filter((ns) => ns.startsWith('qdhcp-')).map(netnsInode).filter((x): x is number => x !== undefined));
  servicePids.push(...pidsInNamespaces(qdhcpInodes));
  // a daemon whose namespace is no longer reachable by name still names the lab dir
  const marked = new Set(pidsWithMarker(`${s.dir}/`).filter((p) => !ovsPids.includes(p)));
  servicePids.push(...marked);
  signalled += await stopPids(servicePids, inodes, grace, marked);

  // 2. bridges before ovs-vswitchd (its taps go with them), then the OVS pair
  await Promise.all(s.nodes.map(async (n) => {
    if (!n.pids.vswitchd) return;
    const r = await vsctl(n.rundir, ['list-br'], { allowFail: true, timeoutS: 5 });
    const bridges = r.code === 0 ? r.stdout.split('\n').map((b) => b.trim()).filter(Boolean) : [];
    if (bridges.length > 0) await vsctl(n.rundir, bridges.flatMap((b) => ['--', '--if-exists', 'del-br', b]), { allowFail: true, timeoutS: 10 });
  }));
  signalled += await stopPids(ovsPids, inodes, 5000);

  // 3. whatever still lives in our namespaces (children of the above, a failed up's leftovers)
  const leftMarked = new Set(pidsWithMarker(`${s.dir}/`));
  signalled += await stopPids([...pidsInNamespaces(inodes), ...leftMarked], inodes, 2000, leftMarked);

  // 4. namespaces, root link, dir, reservation
  if (mine.length > 0) await ipBatch(mine.map((ns) => `netns del ${ns}`), { force: true });
  if (await linkExists(s.root.iface)) await ipBatch([`link del ${s.root.iface}`], { force: true });
  await rm(s.dir, { recursive: true, force: true });
  await releaseOctet(s.prefix, baseDir, s.octet);
  return { prefix, removed: true, netns: mine.length, pids: signalled };
}
