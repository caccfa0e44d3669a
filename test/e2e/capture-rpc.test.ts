/**
 * The generic packet I/O methods through a real steth-agent process running inside
 * a namespace (test/e2e/agent-fixture.ts): arm a capture over RPC, inject over RPC,
 * collect with early return; and a capture the agent opens inside another named
 * namespace (a veth pair this test creates).
 */
import anyTest from 'ava';
import { startNsAgent } from './agent-fixture.js';
import { captureCollect, captureStart, captureStop, packetInject } from '../../probes/capture/contract.js';
import { armCaptures, collectAll } from '../../src/capture/remote.js';
import { encodeFrame, probeFrame, newProbeId } from '../../src/packet/index.js';
import { addonAvailable } from '../../src/capture/binding.js';
import { run } from '../../src/host/exec.js';
import { needsRoot, skipWith, vethPair } from '../helpers/env.js';

const test = skipWith(needsRoot(anyTest), addonAvailable() ? undefined : 'the libpcap addon is not built (npm run build:native)');

const probeHex = (probeId: string, seq: number): string =>
  encodeFrame(probeFrame({ srcMac: '02:00:00:00:00:01', probeId, seq, origin: 'rpc-test' }), { pad: true }).toString('hex');

test('capture.start → packet.inject → capture.collect over RPC returns the injected probes early', async (t) => {
  const agent = await startNsAgent(t);
  for (const i of [agent.ifA, agent.ifB]) await run('ip', ['link', 'set', 'dev', i, 'up'], { netns: agent.ns });
  const client = agent.client();
  const probeId = newProbeId();
  const started = await client.call(captureStart, { iface: agent.ifB, filter: { probeId }, direction: 'in', ttlMs: 30_000 });
  t.is(started.linkType, 1);
  const frames = [0, 1, 2].map((seq) => probeHex(probeId, seq));
  const other = probeHex(newProbeId(), 9);
  const sent = await client.call(packetInject, { iface: agent.ifA, frames: [other, ...frames] });
  t.is(sent.sent, 4);
  t.true(BigInt(sent.lastTsNs) >= BigInt(sent.firstTsNs));
  const got = await client.call(captureCollect, { id: started.id, waitMs: 60_000, stopWhen: { probeId, count: 3 }, close: true });
  t.is(got.reason, 'stopWhen');
  t.deepEqual(got.frames.map((f) => f.bytes), frames, 'only this probe, byte-identical, in order');
  t.true(got.frames.every((f) => f.direction === 'in'));
  t.true(got.closed);
  t.false((await client.call(captureStop, { id: started.id })).stopped);
});

test('the agent captures inside another named namespace (capture.start netns) via remote.ts', async (t) => {
  const agent = await startNsAgent(t);
  const pair = await vethPair(t, { label: 'caprp' });
  const client = agent.client();
  const probeId = newProbeId();
  const armed = await armCaptures([{ label: 'b', client, iface: pair.b.iface, netns: pair.b.netns, filter: { probeId } }]);
  t.truthy(armed[0]!.id, String(armed[0]!.error));
  const hex = probeHex(probeId, 1);
  const sent = await client.call(packetInject, { iface: pair.a.iface, netns: pair.a.netns, frames: [hex] });
  t.is(sent.sent, 1);
  const [seen] = await collectAll(armed, { waitMs: 60_000, minFrames: 1 });
  t.is(seen!.reason, 'minFrames');
  t.is(seen!.frames.length, 1);
  t.is(seen!.frames[0]!.bytes.toString('hex'), hex);
  t.true(seen!.frames[0]!.tsNs >= BigInt(sent.firstTsNs) - 2_000_000n);
});

test('capture errors come back as typed RPC errors (ENODEV, EFILTER)', async (t) => {
  const agent = await startNsAgent(t);
  const client = agent.client();
  const e1 = await t.throwsAsync(client.call(captureStart, { iface: 'nosuch0' }));
  t.is((e1 as { data?: { code?: string } }).data?.code, 'ENODEV');
  await run('ip', ['link', 'set', 'dev', agent.ifB, 'up'], { netns: agent.ns });
  const e2 = await t.throwsAsync(client.call(captureStart, { iface: agent.ifB, filter: 'udp port banana' }));
  t.is((e2 as { data?: { code?: string } }).data?.code, 'EFILTER');
});
