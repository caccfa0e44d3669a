/**
 * Agent figures: idle RSS, RPC round trip over loopback (agent.hello, which
 * lists interfaces via ip -json, and say_hello, pure dispatch), and 200
 * concurrent requests with none lost. Anchor: a bare node:http JSON echo server
 * started the same way, measured interleaved (A B A B) in the same run.
 * No root needed: both listen on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { AGENT_NODE_FLAGS } from '../../agent/node-flags.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { result, round, summarize, type BenchOptions, type BenchReport } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const AGENT = join(here, '..', '..', 'bin', 'steth-agent.js');

const ANCHOR_SRC = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const m = JSON.parse(Buffer.concat(chunks).toString());
    const body = JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { ok: true } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
s.listen(0, '127.0.0.1', () => process.stderr.write('"url":"http://127.0.0.1:' + s.address().port + '"\\n'));
`;

async function launch(cmd: string[], ): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, cmd, { stdio: ['ignore', 'ignore', 'pipe'] });
  let buf = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no url from ${cmd.join(' ')}: ${buf}`)), 15_000);
    proc.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    proc.once('exit', () => reject(new Error(`exited: ${buf}`)));
  });
  proc.stderr!.resume();
  return { proc, url };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: string, agent: http.Agent | false = keepAlive): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path: '/', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const rpc = (method: string, id: number): string => JSON.stringify({ jsonrpc: '2.0', id, method, params: {} });

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p + 0.5))]!;
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'steth-bench-agent-'));
  const agent = await launch([...AGENT_NODE_FLAGS, AGENT, '--listen', '127.0.0.1', '--port', '0', '--state-dir', join(dir, 'state'), '--log-level', 'info']);
  const anchor = await launch(['-e', ANCHOR_SRC]);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const rssFresh = rssMb(agent.proc.pid!);
    const n = opts.quick ? 100 : 500;
    // warm-up (excluded): JIT, first ip(8) exec, keep-alive socket
    for (let i = 0; i < 20; i++) {
      await post(agent.url, rpc('agent.hello', i));
      await post(agent.url, rpc('say_hello', i));
      await post(anchor.url, rpc('x', i));
    }
    const hello: number[] = [];
    const say: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < n; i++) {
      hello.push(await timeMs(() => post(agent.url, rpc('agent.hello', i))));
      base.push(await timeMs(() => post(anchor.url, rpc('x', i))));
      say.push(await timeMs(() => post(agent.url, rpc('say_hello', i))));
    }

    // idle RSS: after the traffic, let things settle, sample a few times
    const rss: number[] = [];
    const rssBase: number[] = [];
    // the agent runs one GC after 2 s idle (agent/main.ts idleCollector)
    await new Promise((r) => setTimeout(r, 4000));
    for (let i = 0; i < 5; i++) {
      rss.push(rssMb(agent.proc.pid!));
      rssBase.push(rssMb(anchor.proc.pid!));
      await new Promise((r) => setTimeout(r, 200));
    }

    const mem = (JSON.parse(await post(agent.url, rpc('agent.hello', 1))) as { result: { memory?: unknown } }).result.memory;
    // 200 concurrent requests, each on its own connection
    const conc = 200;
    const rounds = opts.quick ? 1 : 3;
    const answered: number[] = [];
    const wall: number[] = [];
    let lost = 0;
    const failures = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint();
      const outs = await Promise.allSettled(Array.from({ length: conc }, (_, i) => post(agent.url, rpc('agent.hello', 10_000 + i), false)));
      wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const ok = outs.filter((o) => o.status === 'fulfilled' && (JSON.parse(o.value) as { result?: unknown }).result !== undefined).length;
      for (const o of outs) {
        const why = o.status === 'rejected' ? String((o.reason as NodeJS.ErrnoException).code ?? o.reason) : (JSON.parse(o.value) as { error?: { data?: { code?: string } } }).error?.data?.code;
        if (why !== undefined) failures.set(why, (failures.get(why) ?? 0) + 1);
      }
      answered.push(ok);
      lost += conc - ok;
    }
    const rssAfter = rssMb(agent.proc.pid!);

    const hs = summarize(hello);
    return {
      results: [
        result('agent_idle_rss', 'MB', rss, { anchor: { name: 'bare node:http server', value: round(summarize(rssBase).median) }, goal: '<= 70 MB' }),
        result('hello_rtt_p50', 'ms', hello, { anchor: { name: 'bare node:http JSON echo', value: round(summarize(base).median) }, note: 'agent.hello: interface list from sysfs, shared for 1 s across calls' }),
        { metric: 'hello_rtt_p99', unit: 'ms', value: round(pct(hello, 0.99)), min: round(hs.min), max: round(hs.max), anchor: { name: 'bare node:http JSON echo p99', value: round(pct(base, 0.99)) } },
        result('say_hello_rtt_p50', 'ms', say, { anchor: { name: 'bare node:http JSON echo', value: round(summarize(base).median) }, note: 'pure dispatch (no host tool)' }),
        { metric: 'say_hello_rtt_p99', unit: 'ms', value: round(pct(say, 0.99)) },
        result('concurrent_200_answered', 'requests', answered, { goal: '200 of 200, none lost', note: `lost ${lost} over ${rounds} rounds${failures.size ? ` (${[...failures].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}; agent.hello on 200 fresh connections` }),
        result('concurrent_200_wall', 'ms', wall),
        { metric: 'rss_after_burst', unit: 'MB', value: round(rssAfter), note: 'right after 200 concurrent agent.hello' },
        { metric: 'rss_fresh', unit: 'MB', value: round(rssFresh), note: '1 s after start, no request yet' },
      ],
      notes: [`agent memory when idle (MB): ${JSON.stringify(mem)}`, `${n} interleaved round trips per metric after 20 warm-up calls (excluded)`, 'ratio = agent / anchor (lower is better for RSS and latency)'],
    };
  } finally {
    agent.proc.kill('SIGTERM');
    anchor.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}
