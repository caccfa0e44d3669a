/**
 * Lab state on disk: DIR/state.json (written before anything is created and after
 * every stage, so `down` works after a half-failed up) and the 10.X.0.0/16
 * reservation (BASE/.octets/X, created with O_EXCL so two labs coming up at the
 * same time never pick the same X).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StethError } from '../errors.js';
import { run } from '../host/exec.js';
import { assertPrefix, DEFAULT_BASE_DIR } from './spec.js';
import type { LabState } from './types.js';

export const stateFile = (dir: string): string => join(dir, 'state.json');

let saveSeq = 0;

export async function saveState(state: LabState): Promise<void> {
  await mkdir(state.dir, { recursive: true, mode: 0o700 });
  const tmp = `${stateFile(state.dir)}.${process.pid}.${++saveSeq}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, stateFile(state.dir));
}

/** The lab's state, or undefined when no such lab exists. */
export async function readState(prefix: string, baseDir = DEFAULT_BASE_DIR): Promise<LabState | undefined> {
  const dir = join(baseDir, assertPrefix(prefix));
  let text: string;
  try {
    text = await readFile(stateFile(dir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as LabState;
    if (s.version !== 1 || s.prefix !== prefix) throw new Error('wrong version or prefix');
    return s;
  } catch (e) {
    throw new StethError('ECONFIG', `lab state ${stateFile(dir)} is unreadable: ${(e as Error).message}`, { hint: 'remove the lab by hand or with `steth lab down --all`' });
  }
}

/** Prefixes of every lab with a state dir under baseDir. */
export async function listLabs(baseDir = DEFAULT_BASE_DIR): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(baseDir);
  } catch {
    return [];
  }
  return names.filter((n) => /^[a-z][a-z0-9]{0,7}$/.test(n)).sort();
}

/** Second octets used by addresses or routes in the root namespace (never reuse them). */
async function rootOctets(): Promise<Set<number>> {
  const used = new Set<number>();
  const r = await run('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { allowFail: true });
  const a = await run('ip', ['-4', '-o', 'addr', 'show'], { allowFail: true });
  for (const m of `${r.stdout}\n${a.stdout}`.matchAll(/\b10\.(\d{1,3})\.\d{1,3}\.\d{1,3}(?:\/(\d+))?/g)) {
    const plen = m[2] === undefined ? 32 : Number(m[2]);
    if (plen < 16) {
      for (let i = 0; i < 256; i++) used.add(i); // a 10/8-ish route covers everything
    } else used.add(Number(m[1]));
  }
  return used;
}

/** Reserve a free second octet for a lab (O_EXCL file per octet). */
export async function reserveOctet(prefix: string, baseDir: string, wanted?: number): Promise<number> {
  const odir = join(baseDir, '.octets');
  await mkdir(odir, { recursive: true, mode: 0o700 });
  const used = await rootOctets();
  const hash = [...prefix].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const candidates = wanted !== undefined ? [wanted] : Array.from({ length: 200 }, (_, i) => 40 + ((hash + i) % 200));
  for (const x of candidates) {
    if (used.has(x)) continue;
    try {
      const fd = openSync(join(odir, String(x)), 'wx', 0o600);
      writeSync(fd, prefix);
      closeSync(fd);
      return x;
    } catch {
      // taken by another lab; a stale reservation of this same prefix can be reused
      try {
        if ((await readFile(join(odir, String(x)), 'utf8')).trim() === prefix) return x;
      } catch {
        /* vanished: try the next */
      }
    }
  }
  throw new StethError('EBUSY', wanted !== undefined ? `10.${wanted}.0.0/16 is in use` : 'no free 10.X.0.0/16 for a new lab', {
    hint: 'remove old labs with `steth lab down --all`',
  });
}

export async function releaseOctet(prefix: string, baseDir: string, octet: number): Promise<void> {
  const f = join(baseDir, '.octets', String(octet));
  try {
    if ((await readFile(f, 'utf8')).trim() === prefix) await rm(f, { force: true });
  } catch {
    /* already gone */
  }
}
