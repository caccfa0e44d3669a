/**
 * PcapError: what the libpcap addon throws. The class is handed to the addon at
 * load (binding.setErrorClass), so errors raised in C++ are instances of it with a
 * stable string `code` and libpcap's own text as the message.
 */
import type { StethErrorCode } from '../errors.js';

export type PcapErrorCode =
  | 'ENODEV' // no such interface (in that namespace)
  | 'EPERM' // no CAP_NET_RAW / CAP_NET_ADMIN / CAP_SYS_ADMIN (setns)
  | 'ENETDOWN' // interface is down
  | 'EMSGSIZE' // frame larger than the interface MTU allows / > 65535
  | 'EFILTER' // BPF filter does not compile or cannot be set
  | 'ECLOSED' // handle already closed
  | 'ENOENT' // network namespace not found
  | 'EINVAL' // bad argument (validated in JS before crossing)
  | 'ENOADDON' // the addon is not built / cannot load
  | 'EPCAP'; // any other libpcap / socket failure

const HINTS: Partial<Record<PcapErrorCode, string>> = {
  EPERM: 'run as root or grant CAP_NET_RAW and CAP_NET_ADMIN (and CAP_SYS_ADMIN to enter a namespace)',
  ENETDOWN: 'bring the interface up: ip link set dev IFACE up',
  ENODEV: 'check the name with `ip link` (inside the namespace when one is given)',
  EFILTER: 'see pcap-filter(7) for the syntax',
  ENOADDON: 'build it: npm run build:native (needs libpcap-dev, g++, make, python3; RHEL: libpcap-devel gcc-c++)',
  ENOENT: 'check `ip netns list`',
  EMSGSIZE: 'the frame is longer than the interface MTU plus the Ethernet header',
};

export class PcapError extends Error {
  override readonly name = 'PcapError';
  readonly code: PcapErrorCode;
  /** libpcap status (PCAP_ERROR_*) or errno, when one was returned */
  readonly pcapStatus: number | undefined;
  readonly hint: string | undefined;
  /** for a failed batch inject: frames sent before the failure */
  sent?: number;

  constructor(message: string, code: string, pcapStatus?: number, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = (code as PcapErrorCode) ?? 'EPCAP';
    this.pcapStatus = pcapStatus;
    this.hint = opts.hint ?? HINTS[this.code];
  }

  /** the StethError code an operator-facing layer reports this as */
  get stethCode(): StethErrorCode {
    switch (this.code) {
      case 'EPERM':
        return 'EPERM';
      case 'ENODEV':
      case 'ENOENT':
        return 'ENOENT';
      case 'EINVAL':
      case 'EFILTER':
      case 'EMSGSIZE':
        return 'EINVAL';
      case 'ENOADDON':
        return 'ETOOL';
      case 'ENETDOWN':
        return 'EFAULT';
      default:
        return 'ETOOL';
    }
  }

  toJSON(): { code: string; message: string; hint?: string; pcapStatus?: number } {
    const o: { code: string; message: string; hint?: string; pcapStatus?: number } = { code: this.code, message: this.message };
    if (this.hint !== undefined) o.hint = this.hint;
    if (this.pcapStatus !== undefined) o.pcapStatus = this.pcapStatus;
    return o;
  }
}
