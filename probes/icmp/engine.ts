/**
 * Native ICMP echo on the agent (no `ping` binary, no text scraping).
 *
 * Transport: an AF_INET raw socket (npm `raw-socket`) with IP_HDRINCL. Why not
 * the libpcap addon: at L3 the kernel does what we would otherwise re-implement
 * badly at L2 — route lookup, next-hop ARP, source address selection, any
 * interface type (tunnels, loopback, OVS internal ports) — and every ICMP message
 * addressed to the host (echo replies, unreachables, frag-needed, time exceeded)
 * is delivered to a raw ICMP socket. IP_HDRINCL lets us write the IPv4 header
 * with our own codec: DF, TTL, TOS, source address exactly as asked, and the
 * kernel never fragments it (a datagram above the local MTU fails with
 * EMSGSIZE, which we report as the local limit). SO_BINDTODEVICE selects the
 * source interface. The cost: raw-socket is a NAN addon (rebuild per Node major)
 * and cannot enter another network namespace, so `netns` runs this same engine
 * in a child (`ip netns exec NS node pinger.js`, JSON on stdout).
 */
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import { StethError } from '../../src/errors.js';
import { DEFAULT_DECODE_CTX, DEFAULT_ENCODE_OPTIONS } from '../../src/packet/codec.js';
import { icmp } from '../../src/packet/icmp.js';
import { ipv4 } from '../../src/packet/ipv4.js';
import type { IcmpRepr, Ipv4Repr, Layer } from '../../src/packet/types.js';
import { describeIcmpError, pingStats, type IcmpErrorInfo, type PingStats } from './stats.js';

export interface PingOptions {
  /** IPv4 destinations */
  dests: readonly string[];
  /** echo requests per destination (default 3) */
  count?: number;
  /** ms between requests to one destination (default 100) */
  intervalMs?: number;
  /** ms to wait for the last reply (default 1000) */
  timeoutMs?: number;
  /** ICMP data bytes, as ping -s (default 56 → 84-byte IP datagram) */
  size?: number;
  /** set Don't Fragment */
  df?: boolean;
  ttl?: number;
  tos?: number;
  /** bind to this interface (SO_BINDTODEVICE) */
  iface?: string;
  /** source address written in the IPv4 header (default: the kernel's choice) */
  source?: string;
  signal?: AbortSignal;
}

export interface EchoReply {
  seq: number;
  rttMs: number;
  ttl: number;
  from: string;
  bytes: number;
}

export interface PingResult extends PingStats {
  dest: string;
  /** IPv4 datagram size sent (size + 28) */
  ipSize: number;
  df: boolean;
  replies: EchoReply[];
  /** ICMP errors about our requests, one per distinct (type, code, from, mtu) with a count */
  errors: Array<IcmpErrorInfo & { count: number }>;
  /** local send failures (EMSGSIZE = datagram above the local interface MTU) */
  sendErrors: Array<{ seq: number; code: string; message: string }>;
  /** 'ok' | 'partial' | 'unreachable' | 'timeout' | 'frag-needed' | 'local-mtu' | 'error' */
  status: string;
}

interface RawSocketModule {
  createSocket(o: { protocol: number; bufferSize?: number }): RawSocket;
  Protocol: { ICMP: number };
  SocketLevel: { IPPROTO_IP: number; SOL_SOCKET: number };
  SocketOption: { IP_HDRINCL: number; SO_BINDTODEVICE: number; SO_RCVBUF: number };
}
interface RawSocket {
  on(ev: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', cb: (err: Error) => void): void;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null, bytes: number) => void): void;
  close(): void;
}

const IP_MTU_DISCOVER = 10;
const IP_PMTUDISC_PROBE = 3;

let rawMod: RawSocketModule | undefined;
function loadRaw(): RawSocketModule {
  if (rawMod) return rawMod;
  try {
    const require = createRequire(import.meta.url);
    rawMod = require('raw-socket') as RawSocketModule;
    return rawMod;
  } catch (e) {
    throw new StethError('ETOOL', 'the raw-socket module is not available on this agent', { hint: 'npm run build (raw-socket is an optional native dependency)', cause: e });
  }
}

function openSocket(opts: { iface?: string }): RawSocket {
  const raw = loadRaw();
  let s: RawSocket;
  try {
    s = raw.createSocket({ protocol: raw.Protocol.ICMP, bufferSize: 65536 });
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/not permitted|permission/i.test(msg)) throw new StethError('EPERM', 'cannot open a raw ICMP socket', { hint: 'run the agent as root or grant CAP_NET_RAW' });
    throw new StethError('ETOOL', `cannot open a raw ICMP socket: ${msg}`);
  }
  try {
    s.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
    s.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 1 << 20);
    // IP_PMTUDISC_PROBE: send even above a path MTU the kernel learnt from an
    // earlier frag-needed (else EMSGSIZE hides the router's answer); only the
    // interface MTU is enforced locally
    s.setOption(raw.SocketLevel.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
    if (opts.iface !== undefined) {
      const name = Buffer.from(`${opts.iface}\0`);
      s.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_BINDTODEVICE, name, name.length);
    }
  } catch (e) {
    s.close();
    const msg = (e as Error).message ?? String(e);
    if (/no such device/i.test(msg)) throw new StethError('ENOENT', `interface ${opts.iface} does not exist on this node`);
    throw new StethError('ETOOL', `raw socket option failed: ${msg}`);
  }
  return s;
}

/** Build an IPv4 + ICMP echo request with our codec. */
export function buildEcho(o: { src?: string; dst: string; id: number; seq: number; size: number; df: boolean; ttl: number; tos?: number; ipId?: number }): Buffer {
  const data = Buffer.alloc(o.size);
  // iputils layout: a timestamp first, then an incrementing pattern
  if (o.size >= 8) data.writeBigUInt64BE(process.hrtime.bigint() & 0xffffffffffffffffn, 0);
  for (let i = Math.min(8, o.size); i < o.size; i++) data[i] = i & 0xff;
  const ic: IcmpRepr = { layer: 'icmp', type: 8, code: 0, id: o.id, seq: o.seq, data: data.toString('hex') };
  const ip: Ipv4Repr = {
    layer: 'ipv4',
    src: o.src ?? '0.0.0.0',
    dst: o.dst,
    protocol: 1,
    ttl: o.ttl,
    id: o.ipId ?? randomInt(1, 0xffff),
    df: o.df,
    mf: false,
    fragOffset: 0,
    dscp: (o.tos ?? 0) >> 2,
    ecn: (o.tos ?? 0) & 3,
  };
  const ihl = ipv4.headerLength(ip);
  const ilen = icmp.headerLength(ic);
  const buf = Buffer.alloc(ihl + ilen);
  const opts = DEFAULT_ENCODE_OPTIONS;
  icmp.encodeInto(ic, buf, ihl, { payloadLength: 0, next: undefined, opts, ip: undefined });
  ipv4.encodeInto(ip, buf, 0, { payloadLength: ilen, next: ic, opts, ip: undefined });
  return buf;
}

export interface ParsedIcmp {
  ip: Ipv4Repr;
  icmp: IcmpRepr;
  /** for error messages: the quoted echo's id/seq/dst */
  quoted?: { dst: string; id?: number; seq?: number; protocol: number };
}

/** Decode a datagram received on the raw socket (IPv4 header included). Undefined if not ICMP. */
export function parseIcmp(buf: Uint8Array): ParsedIcmp | undefined {
  try {
    const ip = ipv4.decode(buf, 0, buf.length, DEFAULT_DECODE_CTX);
    if (ip.value.protocol !== 1) return undefined;
    const ic = icmp.decode(buf, ip.length, ip.end, { ipOffset: 0, quoted: false });
    const out: ParsedIcmp = { ip: ip.value, icmp: ic.value };
    const q = ic.value.quoted;
    if (q) {
      const qip = q.find((l): l is Ipv4Repr => l.layer === 'ipv4');
      const qic = q.find((l: Layer): l is IcmpRepr => l.layer === 'icmp');
      if (qip) {
        out.quoted = { dst: qip.dst, protocol: qip.protocol };
        if (qic?.id !== undefined) out.quoted.id = qic.id;
        if (qic?.seq !== undefined) out.quoted.seq = qic.seq;
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Ping every destination concurrently; resolves when all replies are in or the deadline passed. */
export async function ping(opts: PingOptions): Promise<PingResult[]> {
  const count = opts.count ?? 3;
  const intervalMs = opts.intervalMs ?? 100;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const size = opts.size ?? 56;
  const df = opts.df ?? false;
  const ttl = opts.ttl ?? 64;
  const sock = openSocket(opts.iface === undefined ? {} : { iface: opts.iface });

  interface DestState {
    dest: string;
    id: number;
    sentAt: Map<number, bigint>;
    replies: EchoReply[];
    seen: Map<number, number>;
    errors: Map<string, IcmpErrorInfo & { count: number }>;
    sendErrors: PingResult['sendErrors'];
    done: number; // requests answered (reply or error) or failed locally
  }
  const byId = new Map<number, DestState>();
  const states = opts.dests.map((dest) => {
    let id: number;
    do id = randomInt(1, 0xffff);
    while (byId.has(id));
    const st: DestState = { dest, id, sentAt: new Map(), replies: [], seen: new Map(), errors: new Map(), sendErrors: [], done: 0 };
    byId.set(id, st);
    return st;
  });

  let finish: () => void = () => {};
  const allDone = new Promise<void>((r) => (finish = r));
  const checkDone = (): void => {
    if (states.every((s) => s.done >= count)) finish();
  };

  sock.on('message', (buf) => {
    const now = process.hrtime.bigint();
    const p = parseIcmp(buf);
    if (!p) return;
    if (p.icmp.type === 0 && p.icmp.id !== undefined) {
      const st = byId.get(p.icmp.id);
      if (!st || st.dest !== p.ip.src) return;
      const seq = p.icmp.seq ?? -1;
      const t0 = st.sentAt.get(seq);
      if (t0 === undefined) return;
      const n = (st.seen.get(seq) ?? 0) + 1;
      st.seen.set(seq, n);
      if (n > 1) return; // duplicate
      st.replies.push({ seq, rttMs: Number(now - t0) / 1e6, ttl: p.ip.ttl, from: p.ip.src, bytes: buf.length - 20 });
      st.done++;
      checkDone();
    } else if (p.quoted && p.quoted.protocol === 1 && p.quoted.id !== undefined) {
      const st = byId.get(p.quoted.id);
      if (!st || st.dest !== p.quoted.dst) return;
      const seq = p.quoted.seq ?? -1;
      if (!st.sentAt.has(seq)) return;
      const info = describeIcmpError(p.icmp.type, p.icmp.code, p.ip.src, p.icmp.nextHopMtu);
      const key = `${info.type}/${info.code}/${info.from}/${info.nextHopMtu ?? ''}`;
      const e = st.errors.get(key);
      if (e) e.count++;
      else st.errors.set(key, { ...info, count: 1 });
      if (!st.seen.has(seq)) {
        st.seen.set(seq, 0);
        st.done++;
        checkDone();
      }
    }
  });
  sock.on('error', () => {
    /* a socket error ends this run at the deadline; nothing else to do */
  });

  const send = (st: DestState, seq: number): Promise<void> =>
    new Promise((resolve) => {
      let pkt: Buffer;
      try {
        pkt = buildEcho({ dst: st.dest, id: st.id, seq, size, df, ttl, ...(opts.source ? { src: opts.source } : {}), ...(opts.tos !== undefined ? { tos: opts.tos } : {}) });
      } catch (e) {
        st.sendErrors.push({ seq, code: 'EINVAL', message: (e as Error).message });
        st.done++;
        return resolve();
      }
      st.sentAt.set(seq, process.hrtime.bigint());
      sock.send(pkt, 0, pkt.length, st.dest, (err) => {
        if (err) {
          const msg = err.message;
          const code = /too long/i.test(msg) ? 'EMSGSIZE' : /unreachable/i.test(msg) ? 'ENETUNREACH' : /not permitted/i.test(msg) ? 'EPERM' : 'ESEND';
          st.sendErrors.push({ seq, code, message: msg });
          st.sentAt.delete(seq);
          st.done++;
          checkDone();
        } else {
          st.sentAt.set(seq, process.hrtime.bigint());
        }
        resolve();
      });
    });

  const onAbort = (): void => finish();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let deadlineTimer: NodeJS.Timeout | undefined;
  try {
    for (let seq = 1; seq <= count; seq++) {
      if (opts.signal?.aborted) break;
      await Promise.all(states.map((st) => send(st, seq)));
      if (seq < count) await Promise.race([sleep(intervalMs), allDone]);
    }
    checkDone();
    await Promise.race([allDone, new Promise<void>((r) => (deadlineTimer = setTimeout(r, timeoutMs)))]);
  } finally {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    sock.close();
  }
  if (opts.signal?.aborted) throw new StethError('ECANCELED', 'ping was cancelled');

  return states.map((st) => {
    const dups = [...st.seen.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
    const stats = pingStats(st.sentAt.size, st.replies.map((r) => r.rttMs), dups);
    const errors = [...st.errors.values()];
    let status: string;
    if (stats.received === count) status = 'ok';
    else if (stats.received > 0) status = 'partial';
    else if (errors.some((e) => e.kind === 'frag-needed')) status = 'frag-needed';
    else if (st.sendErrors.some((e) => e.code === 'EMSGSIZE')) status = 'local-mtu';
    else if (errors.some((e) => e.kind === 'unreachable')) status = 'unreachable';
    else if (errors.length > 0 || st.sendErrors.length > 0) status = 'error';
    else status = 'timeout';
    return {
      dest: st.dest,
      ipSize: size + 28,
      df,
      ...stats,
      replies: st.replies.sort((a, b) => a.seq - b.seq).map((r) => ({ ...r, rttMs: Math.round(r.rttMs * 1000) / 1000 })),
      errors,
      sendErrors: st.sendErrors,
      status,
    };
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
