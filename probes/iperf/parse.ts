/**
 * iperf output → IperfResult, defensively.
 *
 * iperf3 -J is not always one clean object: it may print warning text before it
 * (esnet/iperf#1223), error text after it, two copies of the object (3.16/3.17,
 * esnet/iperf#1688), several objects (a server without -1 prints one per test),
 * bare nan/-nan numbers (esnet/iperf#613, #826), or no object at all on some server
 * errors (esnet/iperf#1118). extractJsonObjects() scans for balanced top-level
 * objects outside strings, maps bare nan/inf to null, and keeps the rest as noise.
 *
 * iperf2 is read from its CSV report (-y C), never from text tables.
 */
import { StethError, type StethErrorCode } from '../../src/errors.js';
import type { Cpu, Flow, IperfResult, Protocol } from './contract.js';

export interface Extracted {
  objects: unknown[];
  /** non-blank text outside the objects, trimmed, in order */
  noise: string[];
}

/** Find every balanced top-level {...} in text; parse each (nan/inf → null). */
export function extractJsonObjects(text: string): Extracted {
  const objects: unknown[] = [];
  const noise: string[] = [];
  let i = 0;
  let outsideStart = 0;
  const n = text.length;
  while (i < n) {
    if (text[i] !== '{') {
      i++;
      continue;
    }
    // scan a candidate object
    let depth = 0;
    let inStr = false;
    let j = i;
    let out = '';
    let segStart = i;
    let closed = false;
    for (; j < n; j++) {
      const c = text[j]!;
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          closed = true;
          break;
        }
      } else if (c === 'n' || c === 'i' || c === '-' || c === 'N' || c === 'I') {
        // bare nan / -nan / inf / -inf (not valid JSON; iperf3 has printed them)
        const m = /^-?(?:nan|inf(?:inity)?)\b/i.exec(text.slice(j, j + 10));
        if (m && !/[\w.]/.test(text[j - 1] ?? ' ')) {
          out += text.slice(segStart, j) + 'null';
          j += m[0].length - 1;
          segStart = j + 1;
        }
      }
    }
    if (!closed) break; // truncated object: the rest is noise
    out += text.slice(segStart, j + 1);
    let parsed: unknown;
    let ok = false;
    try {
      parsed = JSON.parse(out);
      ok = true;
    } catch {
      ok = false;
    }
    if (ok && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      pushNoise(noise, text.slice(outsideStart, i));
      objects.push(parsed);
      i = j + 1;
      outsideStart = i;
    } else {
      i++;
    }
  }
  pushNoise(noise, text.slice(outsideStart));
  return { objects, noise };
}

function pushNoise(noise: string[], s: string): void {
  const t = s.trim();
  if (t) noise.push(t.slice(0, 500));
}

type J = Record<string, unknown>;
const obj = (x: unknown): J | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as J) : undefined);
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);

/** Looks like an iperf3 report (has start or end)? */
function isIperf3(o: unknown): o is J {
  const j = obj(o);
  return !!j && (obj(j.start) !== undefined || obj(j.end) !== undefined || typeof j.error === 'string');
}

/** Has end sums (a finished or partial test), not just a connection error. */
function hasSums(j: J): boolean {
  const end = obj(j.end);
  return !!end && (obj(end.sum_sent) !== undefined || obj(end.sum_received) !== undefined || obj(end.sum) !== undefined);
}

/** Map iperf's error text to our error code. */
export function classifyIperfError(message: string): StethErrorCode {
  if (/busy running a test|Address already in use/i.test(message)) return 'EBUSY';
  if (/Cannot assign requested address/i.test(message)) return 'ENOENT';
  if (/No route to host|Network is unreachable|timed out|Connection timed out|Host is unreachable/i.test(message)) return 'EFAULT';
  if (/interrupt|has terminated/i.test(message)) return 'ECANCELED';
  return 'ETOOL';
}

export interface ParseOutcome {
  result: IperfResult | null;
  /** set when there is no usable result */
  error: StethError | null;
}

/**
 * Parse iperf3 -J output (client's or server's). Picks the last object that has
 * end sums (two identical copies → the same), else reports the error an object
 * or stderr carries.
 */
export function parseIperf3(stdout: string, stderr = ''): ParseOutcome {
  const { objects, noise } = extractJsonObjects(stdout);
  const reports = objects.filter(isIperf3);
  const warnings = [...noise];
  if (objects.length > reports.length) warnings.push(`${objects.length - reports.length} JSON object(s) that are not iperf3 reports ignored`);
  const withSums = reports.filter(hasSums);
  const chosen = withSums[withSums.length - 1];
  if (withSums.length > 1) warnings.push(`${withSums.length} reports in one output; the last one is used`);
  const stderrText = stderr.trim().split('\n').filter((l) => l.trim() && !/^iperf3: exiting$/.test(l.trim())).join(' / ').slice(0, 400);
  if (!chosen) {
    const errObj = reports.map((r) => str(r.error)).filter((e): e is string => !!e).pop();
    const message = errObj ?? (stderrText || (noise.length ? noise.join(' / ') : 'iperf3 printed no report'));
    return { result: null, error: new StethError(classifyIperfError(message), `iperf3: ${message.replace(/^error - /, '')}`, { detail: { noise, stderr: stderrText } }) };
  }
  if (stderrText) warnings.push(`stderr: ${stderrText}`);
  return { result: summarize(chosen, warnings), error: null };
}

function cpuOf(c: J | undefined, side: 'host' | 'remote'): Cpu | null {
  if (!c) return null;
  const total = num(c[`${side}_total`]);
  if (total === null) return null;
  return { total, user: num(c[`${side}_user`]) ?? 0, system: num(c[`${side}_system`]) ?? 0 };
}

function flowOf(from: 'client' | 'server', sent: J | undefined, received: J | undefined, udp: boolean): Flow {
  const s = sent ?? {};
  const r = received ?? sent ?? {};
  return {
    from,
    sentBytes: num(s.bytes) ?? 0,
    sentBps: num(s.bits_per_second) ?? 0,
    receivedBytes: num(r.bytes) ?? 0,
    receivedBps: num(r.bits_per_second) ?? 0,
    retransmits: udp ? null : num(s.retransmits),
    jitterMs: udp ? num(r.jitter_ms) : null,
    lostPackets: udp ? num(r.lost_packets) : null,
    packets: udp ? (num(r.packets) ?? num(s.packets)) : null,
    lostPercent: udp ? num(r.lost_percent) : null,
  };
}

function summarize(j: J, warnings: string[]): IperfResult {
  const start = obj(j.start) ?? {};
  const end = obj(j.end) ?? {};
  const ts = obj(start.test_start) ?? {};
  const proto: Protocol = String(ts.protocol ?? 'TCP').toUpperCase() === 'UDP' ? 'udp' : 'tcp';
  const udp = proto === 'udp';
  const reverse = num(ts.reverse) === 1 || ts.reverse === true;
  const bidir = obj(end.sum_sent_bidir_reverse) !== undefined || num(ts.bidir) === 1 || ts.bidir === true;
  // older iperf3 (< 3.5) has only end.sum for UDP: sender figures with the receiver's jitter/loss
  const sumSent = obj(end.sum_sent) ?? obj(end.sum);
  const sumRecv = obj(end.sum_received) ?? obj(end.sum);
  const mainFrom = reverse ? 'server' : 'client';
  const flows: Flow[] = [flowOf(mainFrom, sumSent, sumRecv, udp)];
  if (bidir) flows.push(flowOf('server', obj(end.sum_sent_bidir_reverse), obj(end.sum_received_bidir_reverse), udp));
  const cpuJ = obj(end.cpu_utilization_percent);
  // host_* is the end that printed the report; a server's report (no connecting_to) swaps roles
  const isServerReport = obj(start.connecting_to) === undefined && obj(start.accepted_connection) !== undefined;
  const local = cpuOf(cpuJ, 'host');
  const remote = cpuOf(cpuJ, 'remote');
  const conn0 = Array.isArray(start.connected) ? obj(start.connected[0]) : undefined;
  const durationS = num(ts.duration) ?? num(obj(end.sum_sent)?.seconds) ?? 0;
  return {
    tool: 'iperf3',
    version: str(start.version),
    protocol: proto,
    durationS,
    streams: num(ts.num_streams) ?? (Array.isArray(end.streams) ? end.streams.length : 1),
    reverse,
    bidir,
    flows,
    cpu: isServerReport ? { client: remote && remote.total > 0 ? remote : null, server: local } : { client: local, server: remote },
    connection: conn0
      ? { local: String(conn0.local_host ?? ''), localPort: num(conn0.local_port) ?? 0, remote: String(conn0.remote_host ?? ''), remotePort: num(conn0.remote_port) ?? 0 }
      : null,
    warnings,
    error: str(j.error),
  };
}

/* ------------------------------------------------------------------ iperf2 -y C */

export interface Iperf2Row {
  timestamp: string;
  localHost: string;
  localPort: number;
  remoteHost: string;
  remotePort: number;
  id: number;
  start: number;
  end: number;
  bytes: number;
  bps: number;
  /** UDP (14 fields) only */
  jitterMs?: number;
  lost?: number;
  total?: number;
  lostPercent?: number;
  outOfOrder?: number;
}

/** Parse iperf2 `-y C` lines; lines that are not CSV reports are returned as noise. */
export function parseIperf2Rows(text: string): { rows: Iperf2Row[]; noise: string[] } {
  const rows: Iperf2Row[] = [];
  const noise: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const f = line.split(',');
    const interval = /^(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)$/.exec(f[6] ?? '');
    if ((f.length !== 9 && f.length < 14) || !/^\d{14}(\.\d+)?$/.test(f[0]!) || !interval) {
      noise.push(line.slice(0, 300));
      continue;
    }
    const n = (s: string | undefined): number => {
      const v = Number(s);
      return Number.isFinite(v) ? v : NaN;
    };
    const row: Iperf2Row = {
      timestamp: f[0]!,
      localHost: f[1]!,
      localPort: n(f[2]),
      remoteHost: f[3]!,
      remotePort: n(f[4]),
      id: n(f[5]),
      start: Number(interval[1]),
      end: Number(interval[2]),
      bytes: n(f[7]),
      bps: n(f[8]),
    };
    if (f.length >= 14) {
      row.jitterMs = n(f[9]);
      row.lost = n(f[10]);
      row.total = n(f[11]);
      row.lostPercent = n(f[12]);
      row.outOfOrder = n(f[13]);
    }
    if ([row.localPort, row.remotePort, row.id, row.bytes, row.bps].some((v) => Number.isNaN(v))) {
      noise.push(line.slice(0, 300));
      continue;
    }
    rows.push(row);
  }
  return { rows, noise };
}

/** The final (whole-test) row per stream id, plus the sum row (id -1) if iperf2 printed one. */
function finalRows(rows: Iperf2Row[]): { perStream: Iperf2Row[]; sum: Iperf2Row | undefined } {
  const span = Math.max(0, ...rows.map((r) => r.end - r.start));
  const whole = rows.filter((r) => r.end - r.start >= span - 0.5);
  const sum = whole.filter((r) => r.id === -1).pop();
  const byId = new Map<string, Iperf2Row>();
  for (const r of whole) if (r.id !== -1) byId.set(`${r.id}|${r.localPort}|${r.remotePort}`, r);
  return { perStream: [...byId.values()], sum };
}

export interface Iperf2Options {
  protocol: Protocol;
  /** the server's port: iperf2 CSV orders each row sender→receiver, so it tells the direction */
  serverPort: number;
  reverse?: boolean;
  bidir?: boolean;
  /** the server's CSV (received figures, UDP loss/jitter for client→server) */
  serverCsv?: string;
  version?: string | null;
}

/**
 * Build an IperfResult from iperf2 client CSV (and the server's CSV when given).
 * Each CSV row is oriented sender→receiver whoever printed it; a row whose remote
 * port is the server port carries client→server data, one whose local port is the
 * server port server→client data. Sent figures come from the sender's rows,
 * received ones (and UDP jitter/loss) from the receiver's.
 */
export function parseIperf2(clientCsv: string, opts: Iperf2Options): ParseOutcome {
  const c = parseIperf2Rows(clientCsv);
  const s = opts.serverCsv !== undefined ? parseIperf2Rows(opts.serverCsv) : { rows: [], noise: [] };
  if (c.rows.length === 0) {
    const msg = c.noise.join(' / ') || 'iperf printed no CSV report';
    return { result: null, error: new StethError(classifyIperfError(msg), `iperf: ${msg}`) };
  }
  const udp = opts.protocol === 'udp';
  const fromClient = (r: Iperf2Row): boolean => r.remotePort === opts.serverPort;
  const fromServer = (r: Iperf2Row): boolean => r.localPort === opts.serverPort;
  const pick = (rows: Iperf2Row[], pred: (r: Iperf2Row) => boolean): Iperf2Row[] => {
    const f = finalRows(rows.filter(pred));
    return f.sum ? [f.sum] : f.perStream.filter(pred);
  };
  const add = (rs: Iperf2Row[], k: 'bytes' | 'bps' | 'lost' | 'total'): number => rs.reduce((a, r) => a + (r[k] ?? 0), 0);
  const mk = (from: 'client' | 'server', sent: Iperf2Row[], recv: Iperf2Row[]): Flow => {
    const rcv = recv.length ? recv : sent;
    const lostPackets = udp && recv.length ? add(recv, 'lost') : null;
    const packets = udp && recv.length ? add(recv, 'total') : null;
    return {
      from,
      sentBytes: add(sent, 'bytes'),
      sentBps: add(sent, 'bps'),
      receivedBytes: add(rcv, 'bytes'),
      receivedBps: add(rcv, 'bps'),
      retransmits: null,
      jitterMs: udp && recv.length ? Math.max(...recv.map((r) => r.jitterMs ?? 0)) : null,
      lostPackets,
      packets,
      lostPercent: lostPackets !== null && packets ? (100 * lostPackets) / packets : null,
    };
  };
  const up = mk('client', pick(c.rows, fromClient), pick(s.rows, fromClient));
  const downSent = pick(s.rows, fromServer);
  const downRecv = pick(c.rows, fromServer);
  const down = mk('server', downSent.length ? downSent : downRecv, downRecv);
  const flows: Flow[] = opts.reverse ? [down] : opts.bidir ? [up, down] : [up];
  const first = c.rows[0]!;
  const streams = new Set(c.rows.filter((r) => r.id !== -1 && (opts.reverse ? fromServer(r) : fromClient(r))).map((r) => `${r.id}|${r.localPort}|${r.remotePort}`)).size;
  return {
    result: {
      tool: 'iperf2',
      version: opts.version ?? null,
      protocol: opts.protocol,
      durationS: Math.max(...c.rows.map((r) => r.end - r.start)),
      streams: Math.max(1, streams),
      reverse: !!opts.reverse,
      bidir: !!opts.bidir,
      flows,
      cpu: { client: null, server: null },
      connection: { local: first.localHost, localPort: first.localPort, remote: first.remoteHost, remotePort: first.remotePort },
      warnings: [...c.noise, ...s.noise].filter((l) => !/Waiting for server threads|Interrupt again/i.test(l)),
      error: null,
    },
    error: null,
  };
}
