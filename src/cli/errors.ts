/**
 * One place that turns anything thrown into an exit code and a message an
 * operator can act on (npm's exit-handler / error-message idea).
 */
import { CommanderError } from '@commander-js/extra-typings';
import { StethError } from '../errors.js';
import { RpcError } from '../rpc/errors.js';
import { EXIT } from '../report/model.js';

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
  detail?: unknown;
  exitCode: number;
}

const PERM_HINT = 'run as root or grant CAP_NET_RAW (and CAP_NET_ADMIN for link changes)';

export function describeError(err: unknown): ErrorInfo {
  if (err instanceof CommanderError) {
    return { code: 'EUSAGE', message: err.message.replace(/^error:\s*/i, ''), exitCode: err.exitCode === 0 ? 0 : EXIT.USAGE };
  }
  if (err instanceof RpcError) {
    const remote = err.data?.code;
    const agent = err.agent ? `agent ${err.agent}: ` : '';
    const info: ErrorInfo = { code: remote ?? `RPC${err.code}`, message: `${agent}${err.message}`, exitCode: EXIT.AGENT };
    if (err.data?.hint) info.hint = err.data.hint;
    const detail: Record<string, unknown> = { rpcCode: err.code };
    if (err.agent) detail.agent = err.agent;
    if (err.data?.issues) detail.issues = err.data.issues;
    if (err.data?.detail !== undefined) detail.detail = err.data.detail;
    info.detail = detail;
    if (err.code === -32602 || remote === 'EINVAL' || remote === 'ENOENT') info.exitCode = EXIT.USAGE;
    else if (remote === 'EPERM') info.exitCode = EXIT.ENV;
    else if (remote === 'EFAULT') info.exitCode = EXIT.FAULT;
    else if (remote === 'ECANCELED') info.exitCode = EXIT.SIGINT;
    return info;
  }
  if (err instanceof StethError) {
    const info: ErrorInfo = { code: err.code, message: err.message, exitCode: stethExit(err.code) };
    if (err.hint !== undefined) info.hint = err.hint;
    if (err.code === 'EPERM' && err.hint === undefined) info.hint = PERM_HINT;
    if (err.detail !== undefined) info.detail = err.detail;
    return info;
  }
  const e = err as { name?: unknown; code?: unknown; message?: unknown; syscall?: unknown } | null;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
    if (e.code === 'EPERM' || e.code === 'EACCES') {
      return { code: 'EPERM', message: e.message, hint: PERM_HINT, exitCode: EXIT.ENV };
    }
    if (e.name === 'PcapError') return { code: e.code, message: e.message, exitCode: EXIT.ENV };
    if (e.name === 'WireError') return { code: e.code, message: e.message, exitCode: EXIT.USAGE };
    if (e.code === 'ENOENT' && typeof e.syscall === 'string') return { code: 'ENOENT', message: e.message, exitCode: EXIT.ENV };
  }
  const message = err instanceof Error ? err.message : String(err);
  const info: ErrorInfo = { code: 'EINTERNAL', message: `internal error: ${message}`, exitCode: EXIT.FAULT, hint: 'please report this with STETH_DEBUG=1 output' };
  if (process.env.STETH_DEBUG && err instanceof Error) info.detail = { stack: err.stack };
  return info;
}

function stethExit(code: StethError['code']): number {
  switch (code) {
    case 'EINVAL':
    case 'ECONFIG':
    case 'ENOENT':
      return EXIT.USAGE;
    case 'EPERM':
    case 'ETOOL':
      return EXIT.ENV;
    case 'EAGENT':
    case 'ETIMEDOUT':
    case 'EBUSY':
      return EXIT.AGENT;
    case 'ECANCELED':
      return EXIT.SIGINT;
    case 'EFAULT':
      return EXIT.FAULT;
    default:
      return EXIT.FAULT;
  }
}

export const EXIT_CODE_HELP = `Exit codes of steth:

  0    every check passed (or the command did what was asked)
  1    a check ran and found a fault (the verdict says which hop / what)
  2    usage or configuration error: bad arguments (VLAN 4096, a bad MAC or
       CIDR), an unknown agent name, a bad steth.conf (file:line:key), a name
       the agent says does not exist
  3    local environment or permission: not root / no CAP_NET_RAW, a host tool
       missing (ip, ovs-vsctl, iperf3), libpcap cannot open an interface
  4    an agent is unreachable, refused the token (401), timed out, or answered
       with an RPC error; or the OpenStack API (Keystone, Neutron) did the same
       where its answer was needed (e.g. print-agents-info's Neutron agent list)
  130  interrupted (SIGINT / Ctrl-C)

With -f json an error is printed on stdout as
  {"error": {"code": "...", "message": "...", "detail": {...}}}
and stdout stays valid JSON.
`;
