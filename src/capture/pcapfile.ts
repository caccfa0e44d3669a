/**
 * pcap and pcapng files in pure TypeScript (no libpcap): read classic pcap (µs and ns,
 * either byte order) and pcapng (SHB/IDB/EPB/SPB/OPB, per-interface if_tsresol),
 * write classic pcap with nanosecond timestamps. This is how `steth decode` reads
 * evidence and how `--pcap DIR` writes it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { WireError } from '../packet/errors.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_RAW = 101;

export interface PcapFrame {
  /** capture time, ns since the epoch */
  tsNs: bigint;
  /** bytes captured (bytes.length) */
  caplen: number;
  /** length of the frame on the wire */
  len: number;
  bytes: Uint8Array;
  /** pcapng: the interface this frame came from, and its link type */
  interfaceId?: number;
  linkType?: number;
}

export interface PcapFile {
  format: 'pcap' | 'pcapng';
  linkType: number;
  snaplen: number;
  /** ns, us (pcap) or the first interface's resolution (pcapng) */
  resolution: 'ns' | 'us' | string;
  frames: PcapFrame[];
  /** set when the file ended inside a record (a capture killed mid-write): frames before it are kept */
  error?: WireError;
}

const err = (code: 'TRUNCATED' | 'MALFORMED' | 'UNSUPPORTED', off: number, msg: string): WireError => new WireError(code, 'pcap', off, msg);

/** Parse a pcap or pcapng file. Throws WireError when the header is not one of them. */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < 4) throw err('TRUNCATED', 0, 'file shorter than a magic number');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getUint32(0, false);
  if (m === 0x0a0d0d0a) return readPcapng(bytes, dv);
  let le: boolean;
  let ns: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) {
    le = false;
    ns = m === 0xa1b23c4d;
  } else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    le = true;
    ns = m === 0x4d3cb2a1;
  } else throw err('UNSUPPORTED', 0, `not a pcap or pcapng file (magic 0x${m.toString(16).padStart(8, '0')})`);
  if (bytes.length < 24) throw err('TRUNCATED', 0, 'pcap header is 24 bytes');
  const snaplen = dv.getUint32(16, le);
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const frames: PcapFrame[] = [];
  const out: PcapFile = { format: 'pcap', linkType, snaplen, resolution: ns ? 'ns' : 'us', frames };
  let p = 24;
  const mul = ns ? 1n : 1000n;
  while (p < bytes.length) {
    if (bytes.length - p < 16) {
      out.error = err('TRUNCATED', p, 'file ends inside a record header');
      break;
    }
    const sec = dv.getUint32(p, le);
    const frac = dv.getUint32(p + 4, le);
    const caplen = dv.getUint32(p + 8, le);
    const len = dv.getUint32(p + 12, le);
    if (caplen > 0x4000000) {
      out.error = err('MALFORMED', p + 8, `record length ${caplen} is absurd`);
      break;
    }
    if (bytes.length - p - 16 < caplen) {
      out.error = err('TRUNCATED', p, `file ends inside a ${caplen}-byte record`);
      break;
    }
    frames.push({ tsNs: BigInt(sec) * 1000000000n + BigInt(frac) * mul, caplen, len, bytes: bytes.subarray(p + 16, p + 16 + caplen) });
    p += 16 + caplen;
  }
  return out;
}

interface Iface {
  linkType: number;
  snaplen: number;
  /** ticks per second as bigint, plus the label */
  tps: bigint;
  res: string;
  offsetS: bigint;
}

function readPcapng(bytes: Uint8Array, dv: DataView): PcapFile {
  const frames: PcapFrame[] = [];
  const out: PcapFile = { format: 'pcapng', linkType: -1, snaplen: 0, resolution: 'us', frames };
  let ifaces: Iface[] = [];
  let le = true;
  let p = 0;
  while (p < bytes.length) {
    if (bytes.length - p < 12) {
      out.error = err('TRUNCATED', p, 'file ends inside a block header');
      break;
    }
    const type = dv.getUint32(p, le);
    if (type === 0x0a0d0d0a) {
      if (bytes.length - p < 28) {
        out.error = err('TRUNCATED', p, 'section header block is 28 bytes at least');
        break;
      }
      const bom = dv.getUint32(p + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw err('MALFORMED', p + 8, 'bad pcapng byte-order magic');
      ifaces = [];
    }
    const blen = dv.getUint32(p + 4, le);
    if (blen < 12 || blen % 4 !== 0) {
      if (p === 0) throw err('MALFORMED', p + 4, `block length ${blen}`);
      out.error = err('MALFORMED', p + 4, `block length ${blen}`);
      break;
    }
    if (bytes.length - p < blen) {
      out.error = err('TRUNCATED', p, `file ends inside a ${blen}-byte block`);
      break;
    }
    const body = p + 8;
    const bodyEnd = p + blen - 4;
    if (type === 1) {
      // Interface Description Block
      if (bodyEnd - body < 8) throw err('MALFORMED', p, 'short interface description block');
      const iface: Iface = { linkType: dv.getUint16(body, le), snaplen: dv.getUint32(body + 4, le), tps: 1000000n, res: 'us', offsetS: 0n };
      // options
      let q = body + 8;
      while (q + 4 <= bodyEnd) {
        const code = dv.getUint16(q, le);
        const olen = dv.getUint16(q + 2, le);
        if (code === 0 || q + 4 + olen > bodyEnd) break;
        if (code === 9 && olen >= 1) {
          const r = bytes[q + 4]!;
          const exp = BigInt(r & 0x7f);
          iface.tps = r & 0x80 ? 2n ** exp : 10n ** exp;
          iface.res = r & 0x80 ? `2^-${exp}` : exp === 9n ? 'ns' : exp === 6n ? 'us' : `10^-${exp}`;
        } else if (code === 14 && olen === 8) {
          iface.offsetS = dv.getBigInt64(q + 4, le);
        }
        q += 4 + ((olen + 3) & ~3);
      }
      ifaces.push(iface);
      if (out.linkType < 0) {
        out.linkType = iface.linkType;
        out.snaplen = iface.snaplen;
        out.resolution = iface.res;
      }
    } else if (type === 6 || type === 3 || type === 2) {
      let ifId = 0;
      let ts = 0n;
      let caplen: number;
      let len: number;
      let data: number;
      if (type === 6 || type === 2) {
        if (bodyEnd - body < 20) throw err('MALFORMED', p, 'short packet block');
        ifId = type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le);
        ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
        caplen = dv.getUint32(body + 12, le);
        len = dv.getUint32(body + 16, le);
        data = body + 20;
      } else {
        len = dv.getUint32(body, le);
        data = body + 4;
        caplen = Math.min(len, bodyEnd - data);
      }
      if (data + caplen > bodyEnd) {
        out.error = err('MALFORMED', p, `packet of ${caplen} bytes does not fit its block`);
        break;
      }
      const iface = ifaces[ifId];
      if (!iface) {
        out.error = err('MALFORMED', p, `packet names interface ${ifId}, which is not described`);
        break;
      }
      const tsNs = (ts * 1000000000n) / iface.tps + iface.offsetS * 1000000000n;
      frames.push({ tsNs, caplen, len, bytes: bytes.subarray(data, data + caplen), interfaceId: ifId, linkType: iface.linkType });
    }
    p += blen;
  }
  if (out.linkType < 0) out.linkType = LINKTYPE_ETHERNET;
  return out;
}

function header(linkType: number, snaplen: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b23c4d, 0); // nanosecond pcap, little-endian
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

function record(tsNs: bigint, bytes: Uint8Array, origLen: number | undefined, snaplen: number): Buffer[] {
  if (typeof tsNs !== 'bigint' || tsNs < 0n) throw err('MALFORMED', -1, 'tsNs must be a non-negative bigint');
  const caplen = Math.min(bytes.length, snaplen);
  const r = Buffer.alloc(16);
  r.writeUInt32LE(Number(tsNs / 1000000000n) >>> 0, 0);
  r.writeUInt32LE(Number(tsNs % 1000000000n), 4);
  r.writeUInt32LE(caplen, 8);
  r.writeUInt32LE(Math.max(origLen ?? bytes.length, caplen), 12);
  return [r, Buffer.from(bytes.buffer, bytes.byteOffset, caplen)];
}

/** A whole pcap file (ns timestamps) in memory. */
export function encodePcap(frames: readonly { tsNs: bigint; bytes: Uint8Array; len?: number }[], opts: { linkType?: number; snaplen?: number } = {}): Buffer {
  const snaplen = opts.snaplen ?? 262144;
  const parts: Buffer[] = [header(opts.linkType ?? LINKTYPE_ETHERNET, snaplen)];
  for (const f of frames) parts.push(...record(f.tsNs, f.bytes, f.len, snaplen));
  return Buffer.concat(parts);
}

/** Streams frames into a pcap file (ns timestamps) at a path or into a writable stream. */
export class PcapWriter {
  private fd: number | undefined;
  private readonly stream: Writable | undefined;
  private readonly snaplen: number;
  private closed = false;
  /** frames written */
  count = 0;

  constructor(target: string | Writable, opts: { linkType?: number; snaplen?: number } = {}) {
    this.snaplen = opts.snaplen ?? 262144;
    const h = header(opts.linkType ?? LINKTYPE_ETHERNET, this.snaplen);
    if (typeof target === 'string') {
      this.fd = openSync(target, 'w', 0o600);
      writeSync(this.fd, h);
    } else {
      this.stream = target;
      target.write(h);
    }
  }

  write(tsNs: bigint, bytes: Uint8Array, origLen?: number): void {
    if (this.closed) throw err('MALFORMED', -1, 'pcap writer is closed');
    const [r, d] = record(tsNs, bytes, origLen, this.snaplen);
    if (this.fd !== undefined) {
      writeSync(this.fd, r!);
      writeSync(this.fd, d!);
    } else {
      this.stream!.write(Buffer.concat([r!, d!]));
    }
    this.count++;
  }

  /** Idempotent. For a stream, resolves when it has flushed (the stream is ended). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    } else if (this.stream) {
      const s = this.stream;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.end(() => resolve());
      });
    }
  }
}
