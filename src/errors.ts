/**
 * One error type for everything steth reports to an operator. `code` is a stable
 * string (documented in `steth help exit-codes`), `hint` says what to do about it.
 * Packet codecs have their own WireError and libpcap its PcapError; both carry a
 * `code` too so renderers treat them alike.
 */
export type StethErrorCode =
  | 'EINVAL' // bad input: names, VLAN ids, MACs, CIDRs, option values
  | 'ECONFIG' // a configuration file or flag combination is wrong
  | 'ENOENT' // a thing named does not exist (interface, bridge, port, agent)
  | 'EPERM' // privileges missing (root / CAP_NET_RAW / CAP_NET_ADMIN)
  | 'ETOOL' // a host tool is missing or failed (ip, ovs-vsctl, iperf3, dnsmasq)
  | 'ETIMEDOUT' // a deadline passed
  | 'ECANCELED' // cancelled by the caller
  | 'EAGENT' // an agent is unreachable or answered with an RPC error
  | 'EBUSY' // a resource is taken (port in use, concurrency limit)
  | 'EFAULT'; // a probe ran and found a fault (used for verdict-level errors)

export class StethError extends Error {
  override readonly name = 'StethError';
  readonly code: StethErrorCode;
  readonly hint: string | undefined;
  readonly detail: unknown;

  constructor(code: StethErrorCode, message: string, opts: { hint?: string; detail?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.hint = opts.hint;
    this.detail = opts.detail;
  }

  toJSON(): { code: string; message: string; hint?: string; detail?: unknown } {
    const out: { code: string; message: string; hint?: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.detail !== undefined) out.detail = this.detail;
    return out;
  }
}

export function invalid(message: string, hint?: string): StethError {
  return new StethError('EINVAL', message, hint === undefined ? {} : { hint });
}
