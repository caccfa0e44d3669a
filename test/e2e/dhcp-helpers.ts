/**
 * Running the real `steth` binary against a lab from the DHCP e2e tests: argv only,
 * `-f json`, stdout parsed, exit code kept.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabHandle } from '../lab/fixture.js';

export const STETH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth.js');

export interface StethRun {
  code: number;
  json: any;
  stdout: string;
  stderr: string;
}

export async function steth(lab: LabHandle, args: readonly string[], opts: { format?: 'json' | 'table'; timeoutMs?: number } = {}): Promise<StethRun> {
  const argv = [STETH, '--config', lab.state.configPath, ...(opts.format === 'table' ? [] : ['-f', 'json']), ...args];
  return await new Promise((resolve) => {
    execFile(process.execPath, argv, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : -1) : 0;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, json, stdout, stderr });
    });
  });
}

export interface Row {
  node: string;
  device: string;
  role: string;
  discover: boolean | null;
  discoverTags: string;
  offer: boolean | null;
  offerTags: string;
  note: string;
}

export function rows(r: StethRun): Row[] {
  return (r.json?.data?.verdict?.rows ?? []) as Row[];
}

export function row(r: StethRun, role: string, node?: string): Row {
  const x = rows(r).find((y) => y.role === role && (node === undefined || y.node === node));
  if (!x) throw new Error(`no ${role} row in ${JSON.stringify(rows(r).map((y) => y.role))}; verdict: ${r.json?.verdict ?? r.stderr}`);
  return x;
}

/**
 * Packet sockets (libpcap handles) the lab's agents hold open right now, in every node
 * and qdhcp namespace: the inodes listed in each namespace's /proc/net/packet that are
 * also fds of an agent process. A check that leaves a capture behind raises this.
 */
export async function agentPacketSockets(lab: LabHandle): Promise<number> {
  const { readdir, readlink } = await import('node:fs/promises');
  const { run } = await import('../../src/host/exec.js');
  const nss = [...lab.state.nodes.map((n) => n.netns), ...lab.state.networks.map((n) => n.dhcp.netns)];
  const inodes = new Set<string>();
  for (const ns of nss) {
    const r = await run('cat', ['/proc/net/packet'], { netns: ns, allowFail: true });
    for (const line of r.stdout.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 9) inodes.add(f[f.length - 1]!);
    }
  }
  let n = 0;
  for (const node of lab.state.nodes) {
    if (!node.agentPid) continue;
    let fds: string[] = [];
    try {
      fds = await readdir(`/proc/${node.agentPid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${node.agentPid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) n++;
      } catch {
        // closed meanwhile
      }
    }
  }
  return n;
}
