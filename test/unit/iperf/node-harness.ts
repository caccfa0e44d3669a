/**
 * Runs the iperf agent functions for real inside a network namespace the calling
 * test created (`ip netns exec NS node dist/test/unit/iperf/node-harness.js ADDR DIR`),
 * with a real Ledger in a temp state dir and a fake AgentContext, and prints one
 * JSON object: scenario → outcome. node.test.ts asserts on it.
 */
import { mkdtempSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../../../agent/ledger.js';
import type { AgentContext } from '../../../src/rpc/method.js';
import { startServer, stopServer, runClient, activeServers, startTimeOf, methods, which } from '../../../probes/iperf/node.js';
import { client as clientSpec } from '../../../probes/iperf/contract.js';

const [addr = '127.0.0.1', otherAddr = '127.0.0.2'] = process.argv.slice(2);
const state = mkdtempSync(join(tmpdir(), 'ipf8-ledger-'));
const ledger = new Ledger({ stateDir: state, sweepMs: 100 });
ledger.start();
const ctx: AgentContext = { signal: new AbortController().signal, nodeName: 'harness', ovsdb: undefined, ledger, log: () => undefined };
const out: Record<string, unknown> = {};
const alive = async (pid: number): Promise<boolean> => (await startTimeOf(pid)) !== undefined;
const params = (p: Record<string, unknown>) => clientSpec.params.parse(p) as Parameters<typeof runClient>[0];
const errOf = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message, hint: (e as { hint?: string }).hint });

async function scenario(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    out[name] = { ok: true, value: await fn() };
  } catch (e) {
    out[name] = { ok: false, error: errOf(e) };
  }
}

await scenario('tcp', async () => {
  const s = await startServer({ bind: addr, protocol: 'tcp', ttlMs: 30_000, oneOff: true }, ctx);
  const leaseHeld = ledger.has(s.id);
  const c = await runClient(params({ server: addr, port: s.port, bind: addr, durationS: 1 }), ctx);
  const stop = await stopServer(s.id, 2000, ctx);
  return { start: s, leaseHeld, client: c, stop, pidAlive: await alive(s.pid), leaseAfter: ledger.has(s.id) };
});

await scenario('allParams', async () => {
  const s = await startServer({ bind: addr, protocol: 'tcp', ttlMs: 30_000, oneOff: true }, ctx);
  const c = await runClient(params({ server: addr, port: s.port, bind: addr, durationS: 1, parallel: 2, reverse: true, window: 262144, mss: 1400, bandwidth: 200_000_000 }), ctx);
  const stop = await stopServer(s.id, 2000, ctx);
  return { client: c, stop };
});

await scenario('udp', async () => {
  const s = await startServer({ bind: addr, protocol: 'udp', ttlMs: 30_000, oneOff: true }, ctx);
  const c = await runClient(params({ server: addr, port: s.port, protocol: 'udp', durationS: 1, bandwidth: 20_000_000, bidir: true }), ctx);
  await stopServer(s.id, 2000, ctx);
  return { client: c };
});

await scenario('preferredPortBusy', async () => {
  // something else listens on the port we ask for: the agent picks another
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(15555, addr, r));
  try {
    const s = await startServer({ bind: addr, protocol: 'tcp', port: 15555, ttlMs: 30_000, oneOff: true }, ctx);
    const c = await runClient(params({ server: addr, port: s.port, durationS: 1 }), ctx);
    await stopServer(s.id, 2000, ctx);
    return { port: s.port, busyPorts: s.busyPorts, received: c.flows[0]!.receivedBytes };
  } finally {
    blocker.close();
  }
});

await scenario('strictPortBusy', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(15556, addr, r));
  try {
    return await startServer({ bind: addr, protocol: 'tcp', port: 15556, strictPort: true, ttlMs: 30_000, oneOff: true }, ctx);
  } finally {
    blocker.close();
  }
});

await scenario('notLocal', async () => startServer({ bind: '10.254.254.254', protocol: 'tcp', ttlMs: 30_000, oneOff: true }, ctx));

await scenario('leaseExpiry', async () => {
  const s = await startServer({ bind: addr, protocol: 'tcp', ttlMs: 300, oneOff: true }, ctx);
  const before = await alive(s.pid);
  const t0 = Date.now();
  while (Date.now() - t0 < 8000 && (await alive(s.pid))) await new Promise((r) => setTimeout(r, 50));
  return { before, after: await alive(s.pid), leaseAfter: ledger.has(s.id), active: activeServers().filter((a) => a.pid === s.pid).length };
});

await scenario('serverStopKills', async () => {
  // no client ever comes: stop kills it
  const s = await startServer({ bind: addr, protocol: 'tcp', ttlMs: 30_000, oneOff: true }, ctx);
  const stop = await stopServer(s.id, 0, ctx);
  const again = await stopServer(s.id, 0, ctx);
  return { stop, again, pidAlive: await alive(s.pid) };
});

await scenario('connectRefused', async () => runClient(params({ server: addr, port: 15999, durationS: 1 }), ctx));

await scenario('compat', async () => {
  const m = (n: string) => methods.find((x) => x.spec.name === n)!;
  const setup = (await m('setup_iperf_server').handler(m('setup_iperf_server').spec.params.parse(['UDP', 15601]), ctx)) as { code: number; data: { pid: number; port: number } };
  const cli = await m('start_iperf_client').handler(m('start_iperf_client').spec.params.parse({ host: '127.0.0.1', protocol: 'UDP', timeout: 1, bandwidth: 10, port: 15601 }), ctx);
  const pidAlive = await alive(setup.data.pid); // not one-off: still serving
  const td = await m('teardown_iperf_server').handler(m('teardown_iperf_server').spec.params.parse([setup.data.pid]), ctx);
  const td2 = await m('teardown_iperf_server').handler(m('teardown_iperf_server').spec.params.parse([setup.data.pid]), ctx);
  const foreign = await m('teardown_iperf_server').handler(m('teardown_iperf_server').spec.params.parse([process.pid]), ctx);
  return { setup, client: cli, pidAlive, teardown: td, teardownAgain: td2, foreign, pidAfter: await alive(setup.data.pid) };
});

// iperf3 absent: PATH with only iperf (iperf2) → fallback; with neither → ETOOL naming the package
const origPath = process.env.PATH;
const only2 = join(state, 'only-iperf2');
mkdirSync(only2);
const iperf2 = which('iperf');
if (iperf2) symlinkSync(iperf2, join(only2, 'iperf'));
process.env.PATH = only2;
await scenario('iperf2Tcp', async () => {
  const s = await startServer({ bind: addr, protocol: 'tcp', ttlMs: 30_000, oneOff: true }, ctx);
  const c = await runClient(params({ server: addr, port: s.port, bind: addr, durationS: 1 }), ctx);
  const stop = await stopServer(s.id, 0, ctx);
  return { start: s, client: c, stop, pidAlive: await alive(s.pid) };
});
await scenario('iperf2Udp', async () => {
  const s = await startServer({ bind: addr, protocol: 'udp', ttlMs: 30_000, oneOff: true }, ctx);
  const c = await runClient(params({ server: addr, port: s.port, protocol: 'udp', durationS: 1, bandwidth: 5_000_000 }), ctx);
  const stop = await stopServer(s.id, 300, ctx);
  return { client: c, stop };
});
process.env.PATH = join(state, 'empty');
await scenario('noTool', async () => startServer({ bind: addr, protocol: 'tcp', ttlMs: 30_000, oneOff: true }, ctx));
await scenario('noToolClient', async () => runClient(params({ server: addr, port: 15201, durationS: 1 }), ctx));
process.env.PATH = origPath;
void otherAddr;

ledger.stop();
out.leftover = activeServers();
out.leasesLeft = ledger.list().length;
await ledger.releaseAll();
rmSync(state, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
