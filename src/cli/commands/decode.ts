/**
 * `steth decode FILE [--json]`: read a pcap / pcapng file without libpcap and print one
 * line per frame (human) or one JSON object per frame (NDJSON). This is how an
 * operator reads the evidence the checks write (`--pcap DIR`), and how the decoder is
 * compared with tshark. The decoding itself is in ./decode-run.ts, loaded on use.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { StethError } from '../../errors.js';
import { withoutConfig, type CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  withoutConfig(program.command('decode'))
    .description('decode a pcap/pcapng file (no libpcap needed): one line per frame, or one JSON object per frame with --json')
    .argument('<file>', 'pcap or pcapng file')
    .option('--json', 'one JSON object per frame (NDJSON) on stdout')
    .addHelpText('after', '\nExamples:\n  steth decode /tmp/evidence/qvo1234.pcap\n  steth decode capture.pcapng --json | jq .summary')
    .action(async (file: string, opts: { json?: boolean }) => {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new StethError(code === 'EACCES' ? 'EPERM' : 'ENOENT', `cannot read ${file}: ${(e as Error).message}`);
      }
      const { decodeCaptureLines, decodeResult } = await import('./decode-run.js');
      if (opts.json) {
        // NDJSON is a stream format, not a CheckResult: write lines through the output's
        // raw writer when it has one, else stdout.
        const w = (ctx.out as unknown as { write?: (s: string) => void }).write;
        const text = decodeCaptureLines(bytes, { json: true }).join('\n') + '\n';
        if (typeof w === 'function') w.call(ctx.out, text);
        else process.stdout.write(text);
        return;
      }
      ctx.out.emit(decodeResult(file, bytes));
    });
}
