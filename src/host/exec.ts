/**
 * The only way steth runs a host tool: execFile with an argv, never a shell.
 * Inside a named network namespace the command becomes `ip netns exec NS cmd ...`
 * (still an argv). Every failure is a StethError carrying the tool, its exit code
 * and stderr (trimmed); a missing binary names the package that provides it.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { StethError } from '../errors.js';
import { assertNetnsName } from '../validate.js';

export interface RunOptions {
  /** run inside this named network namespace (ip netns exec) */
  netns?: string;
  /** kill the tool after this many ms (default 15 s) */
  timeoutMs?: number;
  /** text written to the tool's stdin */
  input?: string;
  /** extra environment (merged over process.env) */
  env?: Record<string, string>;
  /** resolve instead of throwing on a non-zero exit */
  allowFail?: boolean;
  signal?: AbortSignal;
  /** max stdout+stderr bytes (default 32 MiB) */
  maxBuffer?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Which Debian / RHEL package provides a tool, for "not installed" hints. */
const PACKAGES: Record<string, string> = {
  ip: 'iproute2 (RHEL: iproute)',
  bridge: 'iproute2 (RHEL: iproute)',
  tc: 'iproute2 (RHEL: iproute-tc)',
  'ovs-vsctl': 'openvswitch-switch (RHEL: openvswitch)',
  'ovs-ofctl': 'openvswitch-switch (RHEL: openvswitch)',
  'ovs-appctl': 'openvswitch-switch (RHEL: openvswitch)',
  'ovsdb-server': 'openvswitch-switch (RHEL: openvswitch)',
  'ovsdb-tool': 'openvswitch-switch (RHEL: openvswitch)',
  'ovs-vswitchd': 'openvswitch-switch (RHEL: openvswitch)',
  iperf3: 'iperf3',
  iperf: 'iperf',
  dnsmasq: 'dnsmasq-base',
  ethtool: 'ethtool',
  tshark: 'tshark (RHEL: wireshark-cli)',
  tcpdump: 'tcpdump',
  udhcpc: 'udhcpc (RHEL: busybox)',
  ifconfig: 'net-tools',
};

export function packageFor(tool: string): string | undefined {
  return PACKAGES[tool];
}

export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (cmd.length === 0 || /[\s;&|`$<>]/.test(cmd)) throw new StethError('EINVAL', `refusing to run '${cmd}': not a plain program name`);
  let file = cmd;
  let argv = [...args];
  if (opts.netns !== undefined) {
    argv = ['netns', 'exec', assertNetnsName(opts.netns), cmd, ...argv];
    file = 'ip';
  }
  const execOpts: ExecFileOptions = {
    timeout: opts.timeoutMs ?? 15_000,
    maxBuffer: opts.maxBuffer ?? 32 * 1024 * 1024,
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    killSignal: 'SIGKILL',
    windowsHide: true,
  };
  if (opts.signal) execOpts.signal = opts.signal;
  return await new Promise<RunResult>((resolve, reject) => {
    const child = execFile(file, argv, { ...execOpts, encoding: 'utf8' }, (err, stdout, stderr) => {
      const out = String(stdout);
      const errText = String(stderr);
      if (!err) return resolve({ stdout: out, stderr: errText, code: 0 });
      const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
      if (e.code === 'ENOENT') {
        const pkg = packageFor(cmd);
        return reject(new StethError('ETOOL', `${cmd} is not installed`, pkg ? { hint: `install ${pkg}` } : {}));
      }
      if (e.name === 'AbortError') return reject(new StethError('ECANCELED', `${cmd} was cancelled`));
      if (e.killed && e.signal === 'SIGKILL' && typeof e.code !== 'number') {
        return reject(new StethError('ETIMEDOUT', `${cmd} did not finish in ${execOpts.timeout} ms`));
      }
      const code = typeof e.code === 'number' ? e.code : -1;
      if (opts.allowFail) return resolve({ stdout: out, stderr: errText, code });
      const firstLine = errText.trim().split('\n').slice(-3).join(' / ').slice(0, 400);
      reject(new StethError('ETOOL', `${cmd} ${argv.slice(opts.netns ? 4 : 0, 6).join(' ')} failed (exit ${code})${firstLine ? `: ${firstLine}` : ''}`, {
        detail: { cmd, args: argv, code, stderr: errText.slice(0, 4000) },
      }));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** run() and JSON.parse stdout; a parse failure is ETOOL with the first bytes shown. */
export async function runJson<T = unknown>(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<T> {
  const r = await run(cmd, args, opts);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new StethError('ETOOL', `${cmd} did not print JSON: ${r.stdout.slice(0, 120)}`);
  }
}
