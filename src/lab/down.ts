/**
 * `lab down`: remove everything a lab created, from its state file alone (works after
 * a half-failed up; a second down is a no-op). Order: processes by recorded pid
 * (SIGTERM, then SIGKILL; only pids whose command line names the lab dir), then the
 * namespaces (their veths, bridges, OVS taps and ifbs go with them), then the root
 * veth, the lab dir and the 10.X reservation.
 */
import { readdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ipBatch, linkExists, listNetns, pidAlive, pidIsOurs, stopPids } from './host.js';
import { DEFAULT_BASE_DIR, assertPrefix } from './spec.js';
import { listLabs, readState, releaseOctet } from './state.js';
import type { LabState } from './types.js';

export interface DownResult {
  prefix: string;
  removed: boolean;
  netns: number;
  pids: number;
}

/** Every pid the state knows of, plus pids in pidfiles the state may not have recorded yet. */
async function allPids(state: LabState): Promise<number[]> {
  const pids: number[] = [...state.extraPids];
  pids.push(state.switch.pids.ovsdb, state.switch.pids.vswitchd);
  for (const n of state.nodes) {
    pids.push(n.pids.ovsdb, n.pids.vswitchd);
    if (n.agentPid) pids.push(n.agentPid);
  }
  for (const net of state.networks) if (net.dhcp.pid) pids.push(net.dhcp.pid);
  const pidFiles = [
    ...[state.switch.rundir, ...state.nodes.map((n) => n.rundir)].flatMap((d) => [join(d, 'ovsdb-server.pid'), join(d, 'ovs-vswitchd.pid')]),
    ...state.networks.map((net) => join(net.dhcp.hostsFile, '..', 'pid')),
  ];
  for (const f of pidFiles) {
    try {
      const n = Number((await readFile(f, 'utf8')).trim());
      if (Number.isInteger(n) && n > 1) pids.push(n);
    } catch {
      /* never written */
    }
  }
  return pids.filter((p) => Number.isInteger(p) && p > 1);
}

/** Pids of processes whose command line mentions `marker` (the lab dir + '/'). */
function labProcesses(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    if (pidIsOurs(Number(d), marker) && pidAlive(Number(d))) out.push(Number(d));
  }
  return out;
}

export async function labDown(prefix: string, opts: { baseDir?: string } = {}): Promise<DownResult> {
  const baseDir = opts.baseDir ?? DEFAULT_BASE_DIR;
  const state = await readState(assertPrefix(prefix), baseDir);
  if (!state) return { prefix, removed: false, netns: 0, pids: 0 };
  if ((state as { kind?: string }).kind === 'openstack') {
    // a lab with a real Neutron control plane (lab up --openstack) has its own teardown
    const { openstackDown } = await import('./openstack/index.js');
    return await openstackDown(prefix, { baseDir });
  }
  const marker = `${state.dir}/`;
  const pids = await allPids(state);
  await stopPids(pids, marker);
  // a crashed up can leave a daemon that detached after the state was saved: every
  // process whose command line names this lab's dir is the lab's (rescan until none)
  for (let round = 0; round < 3; round++) {
    const strays = labProcesses(marker);
    if (strays.length === 0) break;
    pids.push(...strays);
    await stopPids(strays, marker);
  }
  const present = await listNetns();
  const mine = state.netnsList.filter((ns) => present.has(ns));
  await ipBatch(mine.map((ns) => `netns del ${ns}`), { force: true });
  if (await linkExists(state.root.iface)) await ipBatch([`link del ${state.root.iface}`], { force: true });
  await rm(state.dir, { recursive: true, force: true });
  await releaseOctet(state.prefix, baseDir, state.octet);
  return { prefix, removed: true, netns: mine.length, pids: pids.length };
}

/** Remove every lab under baseDir (and stale octet reservations of labs that no longer exist). */
export async function labDownAll(opts: { baseDir?: string } = {}): Promise<DownResult[]> {
  const baseDir = opts.baseDir ?? DEFAULT_BASE_DIR;
  const out: DownResult[] = [];
  for (const p of await listLabs(baseDir)) {
    try {
      out.push(await labDown(p, { baseDir }));
    } catch {
      out.push({ prefix: p, removed: false, netns: 0, pids: 0 }); // unreadable state: left for a human
    }
  }
  try {
    const labs = new Set(await listLabs(baseDir));
    for (const f of await readdir(join(baseDir, '.octets'))) {
      const owner = (await readFile(join(baseDir, '.octets', f), 'utf8').catch(() => '')).trim();
      if (!labs.has(owner)) await rm(join(baseDir, '.octets', f), { force: true });
    }
  } catch {
    /* no reservations */
  }
  return out;
}
