/**
 * Plain-tool checks for lab tests (ping, udhcpc, tcpdump), so the lab is verified
 * independently of steth's own probes. Each runs inside a namespace via run().
 */
import { run } from '../../src/host/exec.js';

export interface PingResult {
  sent: number;
  received: number;
  /** min RTT in ms (NaN when nothing came back) */
  minMs: number;
  output: string;
}

/** iputils ping from a namespace. */
export async function ping(netns: string, ip: string, opts: { count?: number; intervalS?: number; size?: number; dontFragment?: boolean; waitS?: number } = {}): Promise<PingResult> {
  const args = ['-n', '-c', String(opts.count ?? 3), '-i', String(opts.intervalS ?? 0.2), '-W', String(opts.waitS ?? 1)];
  if (opts.size !== undefined) args.push('-s', String(opts.size));
  if (opts.dontFragment) args.push('-M', 'do');
  args.push(ip);
  const r = await run('ping', args, { netns, allowFail: true, timeoutMs: 60_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(r.stdout);
  return { sent: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, minMs: rtt ? Number(rtt[1]) : NaN, output: `${r.stdout}${r.stderr}` };
}

export interface LeaseResult {
  ok: boolean;
  ip?: string;
  server?: string;
  output: string;
}

/** busybox udhcpc: DISCOVER/REQUEST on eth0, quit after the lease, change nothing (-s /bin/true). */
export async function udhcpc(netns: string, iface = 'eth0', tries = 3): Promise<LeaseResult> {
  const r = await run('udhcpc', ['-i', iface, '-n', '-q', '-f', '-t', String(tries), '-T', '1', '-A', '1', '-s', '/bin/true'], { netns, allowFail: true, timeoutMs: 30_000 });
  const out = `${r.stdout}${r.stderr}`;
  const m = /lease of (\S+) obtained from (\S+)/.exec(out);
  const res: LeaseResult = { ok: r.code === 0 && m !== null, output: out };
  if (m) {
    res.ip = m[1]!;
    res.server = m[2]!.replace(/,$/, '');
  }
  return res;
}

/**
 * tcpdump -c N on an interface while `trigger` runs (tcpdump is given a head start
 * by waiting for its "listening on" line); returns tcpdump's text (-e -nn: link
 * headers, so VLAN tags show as "vlan N").
 */
export async function captureWhile(netns: string, iface: string, filter: string[], count: number, trigger: (signal: AbortSignal) => Promise<unknown>, timeoutMs = 15_000): Promise<string> {
  const { spawn } = await import('node:child_process');
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-nn', '-e', '-l', '-c', String(count), ...filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const listening = new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', () => resolve());
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  await listening;
  const ac = new AbortController();
  const trig = trigger(ac.signal).catch(() => undefined);
  await exited;
  clearTimeout(timer);
  ac.abort();
  await trig;
  return out;
}
