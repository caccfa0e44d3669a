/**
 * Bandwidth and size strings, parsed strictly. A bandwidth is bits per second in
 * iperf's notation with decimal multipliers: `9G`, `9.5g`, `100M`, `10000000`, also
 * with a unit tail (`9Gbit/s`, `9Gbps`, `9 Gbit`). A size (window, MSS) is bytes with
 * binary multipliers: `256K` = 262144. Anything else (`10X`, `-1`, `1e9`, `G`) is a
 * typed EINVAL, never a guess.
 */
import { StethError } from '../../src/errors.js';

const RATE = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT])?(?:bit\/s|bits\/s|bps|b\/s|bit|bits|b)?$/; // lower-case b only: 'GB/s' would be bytes
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg])?(?:i?b|bytes?)?$/i;
const DEC: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
const BIN: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** '9G' → 9e9 bit/s. Throws EINVAL naming the input. */
export function parseBandwidth(text: string, what = 'bandwidth'): number {
  const s = String(text).trim();
  const m = RATE.exec(s);
  if (!m) {
    throw new StethError('EINVAL', `${what} '${printable(text)}' is not a bandwidth`, {
      hint: 'a number of bit/s with an optional K, M, G or T (decimal), e.g. 900M, 9G, 9.5Gbit/s',
    });
  }
  const n = Number(m[1]) * (m[2] ? DEC[m[2].toLowerCase()]! : 1);
  if (!Number.isFinite(n) || n <= 0) throw new StethError('EINVAL', `${what} '${printable(text)}' must be greater than zero`);
  return Math.round(n);
}

/** '256K' → 262144 bytes. Throws EINVAL naming the input. */
export function parseSize(text: string, what = 'size'): number {
  const s = String(text).trim();
  const m = SIZE.exec(s);
  if (!m) {
    throw new StethError('EINVAL', `${what} '${printable(text)}' is not a size`, { hint: 'bytes with an optional K, M or G (binary), e.g. 256K, 4M' });
  }
  const n = Number(m[1]) * (m[2] ? BIN[m[2].toLowerCase()]! : 1);
  if (!Number.isFinite(n) || n < 1 || !Number.isInteger(Math.round(n))) throw new StethError('EINVAL', `${what} '${printable(text)}' must be at least 1 byte`);
  return Math.round(n);
}

/** The original CLI's --client_bandwidth: a bare number meant Mbit/s ('%sM' % bandwidth). */
export function parseLegacyBandwidth(text: string): number {
  const s = String(text).trim();
  return /^\d+(?:\.\d+)?$/.test(s) ? parseBandwidth(`${s}M`, 'client_bandwidth') : parseBandwidth(s, 'client_bandwidth');
}

/** 9341448308 → '9.34 Gbit/s' (3 significant digits, decimal units). */
export function formatBandwidth(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '-';
  const units: [number, string][] = [
    [1e12, 'Tbit/s'],
    [1e9, 'Gbit/s'],
    [1e6, 'Mbit/s'],
    [1e3, 'Kbit/s'],
  ];
  for (const [f, u] of units) if (Math.abs(bps) >= f) return `${sig3(bps / f)} ${u}`;
  return `${sig3(bps)} bit/s`;
}

/** 1167851520 → '1.09 GiB' */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units: [number, string][] = [
    [1024 ** 4, 'TiB'],
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [f, u] of units) if (Math.abs(n) >= f) return `${sig3(n / f)} ${u}`;
  return `${n} B`;
}

function sig3(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function printable(s: unknown): string {
  return String(s).replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
