/**
 * `npm run bench -- NAME [--quick]`: runs test/bench/NAME.js and prints its report.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printReport, type Benchmark } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'harness.js'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('-'));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME [--quick]\navailable: ${available.join(', ')}\n`);
  process.exit(2);
}
const mod = (await import(`./${name}.js`)) as { default: Benchmark };
const report = await mod.default({ quick: args.includes('--quick'), args: args.filter((a) => a !== name) });
printReport(name, report);
