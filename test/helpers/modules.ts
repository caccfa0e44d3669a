/**
 * Which modules a node process loads: ES modules through a module.register() load
 * hook (preloaded with --import), CommonJS ones (commander, yaml) from the require
 * cache at exit. Used by the CLI start test (nothing heavy at start) and the cli
 * benchmark (module counts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOOK = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, next) { appendFileSync(log, url + '\\n'); return next(url, context); }`;

const PRELOAD = `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const log = process.env.STETH_MODULES_LOG;
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), { data: { log } });
process.on('exit', () => appendFileSync(log, Object.keys(createRequire(process.cwd() + '/').cache).map((k) => 'cjs:' + k + '\\n').join('')));`;

export interface LoadedModules {
  code: number;
  stdout: string;
  stderr: string;
  /** file: URLs of the ES modules loaded, in load order */
  esm: string[];
  /** paths of the CommonJS modules loaded */
  cjs: string[];
  /** node: builtins imported from ES modules */
  builtins: string[];
}

/** Run `node ARGS` (output captured) and report every module it loaded. */
export function modulesLoaded(args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<LoadedModules> {
  const dir = mkdtempSync(join(tmpdir(), 'steth-modules-'));
  const log = join(dir, 'modules.log');
  const env = { ...(opts.env ?? process.env), STETH_MODULES_LOG: log };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, ...args], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      try {
        const code = err ? (typeof err.code === 'number' ? err.code : NaN) : 0;
        if (Number.isNaN(code)) throw new Error(`node ${args.join(' ')}: ${err?.message}\n${stderr}`);
        const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
        resolve({
          code,
          stdout,
          stderr,
          esm: lines.filter((l) => l.startsWith('file:')),
          cjs: lines.filter((l) => l.startsWith('cjs:')).map((l) => l.slice(4)),
          builtins: lines.filter((l) => l.startsWith('node:')),
        });
      } catch (e) {
        reject(e as Error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
