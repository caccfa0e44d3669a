/**
 * dnsmasq processes and the network namespace each runs in, read from /proc (no exec).
 * Synchronous reads: the files are tiny, far cheaper than a thread-pool round trip each.
 *
 * Finding them means reading the comm of every process on the node: ~30 µs a process
 * here, 3.5 ms for ~110 processes, tens of ms on a network node running thousands. So the
 * dnsmasq processes found last time are re-read first (their comm, argv, namespace and
 * interfaces, a handful of files), and /proc is walked again only when a namespace asked
 * about has none of them: a dnsmasq restarted (new pid), a new network, or none running.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface DnsmasqProc {
  pid: number;
  argv: string[];
  /** inode of the process's network namespace (compare with stat(/run/netns/NAME).ino) */
  nsIno: number;
  /** interfaces of the process's network namespace (/proc/PID/net/dev), no exec needed */
  ifaces: string[];
}

/** The process `pid` if it is a dnsmasq (undefined when it is not, or has gone). */
export function readDnsmasq(pid: number, procRoot = '/proc'): DnsmasqProc | undefined {
  const dir = `${procRoot}/${pid}`;
  try {
    if (readFileSync(`${dir}/comm`, 'utf8').trim() !== 'dnsmasq') return undefined;
    const argv = readFileSync(`${dir}/cmdline`, 'utf8').split('\0').filter((x) => x !== '');
    const m = /\[(\d+)\]/.exec(readlinkSync(`${dir}/ns/net`));
    if (!m) return undefined;
    let dev = '';
    try {
      dev = readFileSync(`${dir}/net/dev`, 'utf8');
    } catch {
      dev = '';
    }
    const ifaces = dev
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0]!.trim())
      .filter((x) => x !== '');
    return { pid, argv, nsIno: Number(m[1]), ifaces };
  } catch {
    return undefined; // the process went away
  }
}

/** Every dnsmasq on the node: one pass over /proc. */
export function walkDnsmasq(procRoot = '/proc'): DnsmasqProc[] {
  const out: DnsmasqProc[] = [];
  for (const p of readdirSync(procRoot)) {
    if (!/^\d+$/.test(p)) continue;
    const d = readDnsmasq(Number(p), procRoot);
    if (d) out.push(d);
  }
  return out;
}

/**
 * The dnsmasq processes, such that each namespace inode in `wanted` that has one running
 * is covered: `previous` re-read when that covers them all, else a walk of /proc.
 */
export function findDnsmasq(wanted: readonly number[], previous: readonly DnsmasqProc[], procRoot = '/proc'): { procs: DnsmasqProc[]; walked: boolean } {
  if (previous.length > 0) {
    const again = previous.map((p) => readDnsmasq(p.pid, procRoot)).filter((p): p is DnsmasqProc => p !== undefined);
    if (wanted.every((ino) => again.some((p) => p.nsIno === ino))) return { procs: again, walked: false };
  }
  return { procs: walkDnsmasq(procRoot), walked: true };
}
