/**
 * `npm run bench -- capture [--quick]` (root): inject and capture rates on a veth pair
 * between two namespaces this benchmark creates and removes.
 *
 * Inject (frames/s, 64 B and 1500 B): our addon one frame per call and in batches
 * (sendmmsg) vs `tcpreplay --topspeed` (preloaded file) vs the npm `cap` and `pcap`
 * packages. Every sender runs in its own fresh process inside the sending namespace
 * (`ip netns exec`), timed by itself over the same window; implementations are
 * interleaved run by run (A B C A B C) since the machine is shared.
 *
 * Capture: our batch injector sends N frames as fast as it can; the receiving side
 * runs our capture (default snaplen 1600, and snaplen 65535) or `tcpdump -w /dev/null`.
 * Loss = frames that reached the interface (its rx_packets) minus frames captured.
 * Variants: defaults (immediate, 32 MiB), immediate: false (TPACKET_V3), 16/4 MiB rings,
 * snaplen 65535. Flags: --quick, --capture-only, --kinds=ours,tcpdump,ours-v3,...
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/host/exec.js';
import { encodePcap } from '../../src/capture/pcapfile.js';
import { createVethPair, type VethPair } from '../helpers/env.js';
import { result, summarize, type BenchOptions, type BenchReport, type BenchResult } from './harness.js';

const captureIndex = fileURLToPath(new URL('../../src/capture/index.js', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

function frameOf(size: number, seq = 0): Buffer {
  const f = Buffer.alloc(size);
  Buffer.from('02bb00000002' + '02aa00000001' + '88b5', 'hex').copy(f);
  f.writeUInt32BE(seq >>> 0, 14);
  return f;
}

/** Sender programs: each prints one JSON line {sent, secs}. */
function senderScript(impl: string, iface: string, size: number, ms: number): string {
  const common = `
    const f = Buffer.alloc(${size}); Buffer.from('02bb0000000202aa0000000188b5', 'hex').copy(f);
    const ms = ${ms}; let sent = 0; const t0 = process.hrtime.bigint(); const end = t0 + BigInt(ms) * 1000000n;
    const done = () => { const secs = Number(process.hrtime.bigint() - t0) / 1e9; console.log(JSON.stringify({ sent, secs })); setImmediate(() => process.exit(0)); };`;
  switch (impl) {
    case 'ours-single':
      return `import { openInjector } from ${JSON.stringify(captureIndex)};${common}
        const inj = await openInjector(${JSON.stringify(iface)});
        while (process.hrtime.bigint() < end) { for (let i = 0; i < 256; i++) inj.send(f); sent += 256; }
        done(); inj.close();`;
    case 'ours-batch':
      return `import { openInjector } from ${JSON.stringify(captureIndex)};${common}
        const inj = await openInjector(${JSON.stringify(iface)}); const batch = Array.from({ length: 256 }, () => f);
        while (process.hrtime.bigint() < end) { sent += inj.sendBatch(batch); }
        done(); inj.close();`;
    case 'cap':
      return `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(join(projectRoot, 'package.json'))});
        const { Cap } = require('cap');${common}
        const c = new Cap(); const buf = Buffer.alloc(65535); c.open(${JSON.stringify(iface)}, '', 1024 * 1024, buf);
        while (process.hrtime.bigint() < end) { for (let i = 0; i < 256; i++) c.send(f, f.length); sent += 256; }
        done(); c.close();`;
    case 'pcap':
      return `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(join(projectRoot, 'package.json'))});
        const pcap = require('pcap');${common}
        const s = pcap.createSession(${JSON.stringify(iface)}, { buffer_timeout: 0 });
        while (process.hrtime.bigint() < end) { for (let i = 0; i < 256; i++) s.inject(f); sent += 256; }
        done(); s.close();`;
    default:
      throw new Error(impl);
  }
}

async function nodeIn(netns: string, script: string, timeoutMs = 60_000): Promise<string> {
  const r = await run(process.execPath, ['--input-type=module', '-e', script], { netns, timeoutMs });
  return r.stdout;
}

async function injectRate(pair: VethPair, impl: string, size: number, ms: number, pcapDir: string): Promise<number> {
  if (impl === 'tcpreplay') {
    const file = join(pcapDir, `f${size}.pcap`);
    // ~ms worth at ~0.5 Mpps (64 B) / 0.25 Mpps (1500 B): file of 20k frames looped
    const loops = Math.max(1, Math.round(((size <= 64 ? 500_000 : 250_000) * ms) / 1000 / 20_000));
    const r = await run('tcpreplay', ['--topspeed', '-K', `--loop=${loops}`, '-i', pair.a.iface, file], { netns: pair.a.netns, timeoutMs: 120_000 });
    const m = /Rated:.*?([\d.]+) pps/.exec(r.stdout);
    if (!m) throw new Error(`tcpreplay printed no rate: ${r.stdout.slice(0, 300)}`);
    return Number(m[1]);
  }
  const out = await nodeIn(pair.a.netns, senderScript(impl, pair.a.iface, size, ms));
  const j = JSON.parse(out.trim().split('\n').pop()!) as { sent: number; secs: number };
  return j.sent / j.secs;
}

async function rxPackets(pair: VethPair): Promise<number> {
  const r = await run('cat', [`/sys/class/net/${pair.b.iface}/statistics/rx_packets`], { netns: pair.b.netns });
  return Number(r.stdout.trim());
}

/** Start a capturer on b; resolves once it is ready, with a stop() that returns frames captured. */
/** our capture variants measured (options as openCapture takes them) */
const OURS: Record<string, string> = {
  ours: '{}',
  'ours-65535': '{ snaplen: 65535 }',
  'ours-4M': '{ bufferSize: 4 * 1024 * 1024 }',
  'ours-16M': '{ bufferSize: 16 * 1024 * 1024 }',
  'ours-v3': '{ immediate: false }',
  'ours-v3-4M': '{ immediate: false, bufferSize: 4 * 1024 * 1024 }',
  'ours-v3-1ms': '{ immediate: false, bufferTimeoutMs: 1 }',
};

async function startCapturer(pair: VethPair, kind: string): Promise<{ stop: () => Promise<{ captured: number; kernelDrop: number }> }> {
  let child: ChildProcess;
  if (kind === 'tcpdump') {
    child = spawn('ip', ['netns', 'exec', pair.b.netns, 'tcpdump', '-i', pair.b.iface, '-w', '/dev/null', '-n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    const script = `import { openCapture } from ${JSON.stringify(captureIndex)};
      const cap = await openCapture({ iface: ${JSON.stringify(pair.b.iface)}, keepAlive: true, ...${OURS[kind]} });
      let n = 0; let stopping = false;
      process.on('SIGTERM', () => { stopping = true; const s = cap.stats(); n += cap.take().length; cap.close(); process.stderr.write(JSON.stringify({ captured: n, kernelDrop: s.drop }) + '\\n'); process.exit(0); });
      process.stderr.write('listening\\n');
      while (!stopping) { const b = await cap.nextBatch(); n += b.length; if (cap.closed) break; }`;
    child = spawn('ip', ['netns', 'exec', pair.b.netns, process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (/listening/.test(err)) resolve();
    };
    child.stderr!.on('data', check);
    child.once('exit', (c) => reject(new Error(`${kind} exited early (${c}): ${err.slice(0, 300)}`)));
  });
  return {
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(kind === 'tcpdump' ? 'SIGINT' : 'SIGTERM');
      await exited;
      if (kind === 'tcpdump') {
        const cap = /(\d+) packets? captured/.exec(err);
        const drop = /(\d+) packets? dropped by kernel/.exec(err);
        return { captured: Number(cap?.[1] ?? NaN), kernelDrop: Number(drop?.[1] ?? NaN) };
      }
      const line = err.trim().split('\n').pop()!;
      return JSON.parse(line) as { captured: number; kernelDrop: number };
    },
  };
}

/** Send n frames of `size` as fast as our batch injector goes; returns the injector's rate. */
async function blast(pair: VethPair, n: number, size: number, paced = false): Promise<number> {
  // paced: 64 frames per ms at most (the warm-up: gets the capturer's JIT warm without loss)
  const script = `import { openInjector } from ${JSON.stringify(captureIndex)};
    const f = Buffer.alloc(${size}); Buffer.from('02bb0000000202aa0000000188b5', 'hex').copy(f);
    const inj = await openInjector(${JSON.stringify(pair.a.iface)}); const batch = Array.from({ length: ${paced ? 64 : 256} }, () => f);
    let sent = 0; const t0 = process.hrtime.bigint();
    while (sent < ${n}) { sent += inj.sendBatch(${n} - sent >= batch.length ? batch : batch.slice(0, ${n} - sent)); ${paced ? 'await new Promise((r) => setTimeout(r, 1));' : ''} }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9; inj.close(); console.log(JSON.stringify({ sent, secs }));`;
  const out = await nodeIn(pair.a.netns, script);
  const j = JSON.parse(out.trim().split('\n').pop()!) as { sent: number; secs: number };
  return j.sent / j.secs;
}

async function settle(pair: VethPair): Promise<number> {
  // wait until the receive counter stops moving (the backlog is drained)
  let last = await rxPackets(pair);
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await rxPackets(pair);
    if (now === last) return now;
    last = now;
  }
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  if (process.getuid?.() !== 0) throw new Error('the capture benchmark needs root (namespaces, raw sockets)');
  const runs = opts.quick ? 3 : 5;
  const ms = opts.quick ? 200 : 500;
  const pair = await createVethPair({ label: 'capbn' });
  const dir = mkdtempSync(join(tmpdir(), 'steth-capbench-'));
  const results: BenchResult[] = [];
  const notes: string[] = [];
  try {
    for (const size of [64, 1500]) {
      const frames = Array.from({ length: 20_000 }, (_, i) => ({ tsNs: BigInt(i) * 1000n, bytes: frameOf(size, i) }));
      writeFileSync(join(dir, `f${size}.pcap`), encodePcap(frames));
    }
    const impls = opts.args.includes('--capture-only') ? [] : ['ours-batch', 'ours-single', 'tcpreplay', 'cap', 'pcap'];
    for (const size of impls.length === 0 ? [] : [64, 1500]) {
      const samples: Record<string, number[]> = Object.fromEntries(impls.map((i) => [i, []]));
      const failed: Record<string, string> = {};
      for (let r = 0; r < runs; r++) {
        for (const impl of impls) {
          if (failed[impl]) continue;
          try {
            samples[impl]!.push(await injectRate(pair, impl, size, ms, dir));
          } catch (err) {
            failed[impl] = (err as Error).message.split('\n')[0]!.slice(0, 200);
          }
        }
      }
      for (const [impl, why] of Object.entries(failed)) notes.push(`inject ${size} B via ${impl} failed: ${why}`);
      const med = (i: string): number => summarize(samples[i]!).median;
      const tr = med('tcpreplay');
      for (const ours of ['ours-batch', 'ours-single']) {
        if (samples[ours]!.length === 0) continue;
        results.push(result(`inject_${size}B_${ours.replace('-', '_')}`, 'frames/s', samples[ours]!, {
          anchor: { name: 'tcpreplay --topspeed -K', value: Math.round(tr) },
          goal: '>=1.0x tcpreplay',
        }));
      }
      for (const other of ['cap', 'pcap']) {
        if (samples[other]!.length === 0 || samples['ours-batch']!.length === 0) continue;
        results.push(result(`inject_${size}B_ours_batch_vs_${other}`, 'frames/s', samples['ours-batch']!, {
          anchor: { name: `npm ${other} (send per frame)`, value: Math.round(med(other)) },
          goal: '>=3x',
        }));
        results.push(result(`inject_${size}B_ours_single_vs_${other}`, 'frames/s', samples['ours-single']!, {
          anchor: { name: `npm ${other} (send per frame)`, value: Math.round(med(other)) },
          goal: '>=3x',
        }));
      }
    }

    // ---- capture at the injector's rate -------------------------------------------------
    const n = opts.quick ? 50_000 : 200_000;
    const warm = 20_000;
    const kindsArg = opts.args.find((a) => a.startsWith('--kinds='));
    const kinds = kindsArg ? kindsArg.slice(8).split(',').filter((k) => k === 'tcpdump' || k in OURS) : ['ours', 'tcpdump', 'ours-v3', 'ours-16M', 'ours-4M', 'ours-65535'];
    const loss: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
    const kdrop: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
    const rates: number[] = [];
    const delivered: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (const kind of kinds) {
        const c = await startCapturer(pair, kind);
        const before = await rxPackets(pair);
        await blast(pair, warm, 64, true);
        const mid = await settle(pair);
        rates.push(await blast(pair, n, 64));
        const after = await settle(pair);
        const got = await c.stop();
        const arrived = after - before;
        delivered.push((after - mid) / n);
        loss[kind]!.push(Math.max(0, arrived - got.captured));
        kdrop[kind]!.push(got.kernelDrop);
      }
    }
    const rate = summarize(rates).median;
    results.push(result('capture_64B_injector_rate', 'frames/s', rates, { note: `our batch injector, ${n} frames per run, the rate the capturers faced` }));
    const tcpdumpAnchor = kinds.includes('tcpdump') ? { name: 'tcpdump -w /dev/null (lost)', value: summarize(loss.tcpdump!).median } : undefined;
    for (const k of kinds) {
      if (k === 'tcpdump') continue;
      const what = k === 'ours' ? 'defaults: immediate, snaplen 1600, 32 MiB ring' : k === 'ours-v3' ? 'immediate: false (TPACKET_V3 blocks, ≤10 ms delivery delay), 32 MiB' : `options ${OURS[k]}`;
      results.push(result(`capture_64B_${k.replace(/-/g, '_')}_lost`, 'frames', loss[k]!, {
        ...(tcpdumpAnchor ? { anchor: tcpdumpAnchor } : {}),
        goal: k === 'ours' ? '0 lost at the injector rate' : 'comparison',
        note: `${what}; of ${n} sent; kernel drop counter median ${summarize(kdrop[k]!).median}`,
      }));
    }
    if (kinds.includes('tcpdump')) {
      results.push(result('capture_64B_tcpdump_lost', 'frames', loss.tcpdump!, { note: `kernel drop counter median ${summarize(kdrop.tcpdump!).median}` }));
    }
    notes.push(`inject: each sender in a fresh process in the sending namespace, ${ms} ms windows, ${runs} runs interleaved; process start and open excluded (timed inside the sender)`);
    notes.push(`capture: each capturer first gets ${warm} paced warm-up frames (JIT warm; counted in both sent and captured), then`);
    notes.push(`capture: ${n} x 64 B frames per run at ${Math.round(rate).toLocaleString('en-US')} frames/s; lost = interface rx_packets delta - captured; ${(summarize(delivered).median * 100).toFixed(1)}% of sent frames reached the receiving interface (veth backlog drops are not capture loss)`);
    notes.push('cap/pcap: npm packages as installed (NAN); pcap session with buffer_timeout 0; both open a capturing handle to send');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pair.destroy();
  }
  return { results, notes };
}
