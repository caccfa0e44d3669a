/**
 * Agent methods capture.start / collect / stop and packet.inject over the fake
 * native layer and an in-memory ledger: leases, early return, stopWhen, deadlines.
 */
import test from 'ava';
import type { AgentContext, LedgerApi, MethodImpl, UndoAction } from '../../../src/rpc/method.js';
import { createCaptureMethods, stopMatcher } from '../../../probes/capture/node.js';
import { captureCollect, captureStart, captureStop, packetInject } from '../../../probes/capture/contract.js';
import { encodeFrame, probeFrame, dhcpDiscover } from '../../../src/packet/index.js';
import { fakeBinding } from './fake.js';

class FakeLedger implements LedgerApi {
  leases = new Map<string, { kind: string; undo: UndoAction; ttlMs: number; inProcess?: () => void | Promise<void> }>();
  #n = 0;
  acquire(kind: string, undo: UndoAction, ttlMs: number, inProcess?: () => void | Promise<void>): string {
    const id = `l${++this.#n}`;
    this.leases.set(id, inProcess ? { kind, undo, ttlMs, inProcess } : { kind, undo, ttlMs });
    return id;
  }
  async release(id: string): Promise<void> {
    const l = this.leases.get(id);
    this.leases.delete(id);
    await l?.inProcess?.();
  }
  renew(id: string, ttlMs: number): void {
    const l = this.leases.get(id);
    if (l) l.ttlMs = ttlMs;
  }
  has(id: string): boolean {
    return this.leases.has(id);
  }
  /** what the agent's reaper does on expiry */
  async expire(id: string): Promise<void> {
    await this.release(id);
  }
}

function ctx(ledger: FakeLedger, signal = new AbortController().signal): AgentContext {
  return { signal, nodeName: 'test', ovsdb: undefined, ledger, log: () => {} };
}

async function setup() {
  const binding = await fakeBinding();
  const m = createCaptureMethods({ binding });
  const ledger = new FakeLedger();
  const byName = (name: string): MethodImpl => m.methods.find((x) => x.spec.name === name)!;
  const call = async (spec: { name: string; params: { parse: (p: unknown) => unknown }; result: { parse: (r: unknown) => unknown } }, params: unknown, c = ctx(ledger)): Promise<any> =>
    spec.result.parse(await byName(spec.name).handler(spec.params.parse(params) as never, c));
  return { binding, m, ledger, call };
}

const probe = (id: string, seq = 0): Buffer => encodeFrame(probeFrame({ srcMac: '02:00:00:00:00:01', probeId: id, seq, origin: 't' }), { pad: true });

test('capture.start opens the capture, returns its id once active and holds a lease that closes it', async (t) => {
  const { binding, ledger, call, m } = await setup();
  const r = await call(captureStart, { iface: 'tap1', netns: 'qdhcp-x', filter: { udpPort: 67 }, ttlMs: 5000 });
  t.regex(r.id, /^cap-/);
  t.is(r.linkType, 1);
  t.truthy(r.filter);
  t.is(binding.last.opts!.netnsPath, '/run/netns/qdhcp-x');
  const [leaseId, lease] = [...ledger.leases.entries()][0]!;
  t.is(lease.kind, 'capture');
  t.is(lease.ttlMs, 5000);
  t.is(m.active(), 1);
  await ledger.expire(leaseId);
  t.true(binding.last.closed);
  t.is(m.active(), 0);
  await t.throwsAsync(call(captureCollect, { id: r.id, waitMs: 0 }), { message: /no capture/ });
});

test('capture.collect returns as soon as minFrames are in (no fixed wait)', async (t) => {
  const { binding, call } = await setup();
  const { id } = await call(captureStart, { iface: 'eth1' });
  const h = binding.last;
  const first = probe('00000000000000aa');
  setImmediate(() => h.deliver([{ tsNs: 10n, bytes: first }]));
  setTimeout(() => h.deliver([{ tsNs: 20n, bytes: probe('00000000000000bb') }]), 20);
  // waitMs is a minute: the reason says it returned because the frames were in
  const r = await call(captureCollect, { id, waitMs: 60_000, minFrames: 2 });
  t.is(r.reason, 'minFrames');
  t.deepEqual(r.frames.map((f: { tsNs: string }) => f.tsNs), ['10', '20']);
  t.is(r.frames[0].bytes, first.toString('hex'));
  t.false(r.closed);
});

test('capture.collect stops on stopWhen (probe id) and closes when asked', async (t) => {
  const { binding, call, ledger } = await setup();
  const { id } = await call(captureStart, { iface: 'eth1' });
  const h = binding.last;
  setImmediate(() => h.deliver([{ tsNs: 1n, bytes: probe('1111111111111111') }, { tsNs: 2n, bytes: probe('2222222222222222') }]));
  const r = await call(captureCollect, { id, waitMs: 60_000, stopWhen: { probeId: '2222222222222222' }, close: true });
  t.is(r.reason, 'stopWhen');
  t.is(r.frames.length, 2);
  t.true(r.closed);
  t.true(h.closed);
  t.is(ledger.leases.size, 0, 'lease released');
  t.deepEqual(await call(captureStop, { id }), { stopped: false });
});

test('capture.collect returns at the deadline with what it has', async (t) => {
  const { binding, call } = await setup();
  const { id } = await call(captureStart, { iface: 'eth1' });
  binding.last.deliver([{ tsNs: 1n, bytes: probe('1111111111111111') }]);
  const r = await call(captureCollect, { id, waitMs: 30, minFrames: 5 });
  t.is(r.reason, 'deadline');
  t.is(r.frames.length, 1);
});

test('capture.collect maxFrames keeps the rest for the next collect', async (t) => {
  const { binding, call } = await setup();
  const { id } = await call(captureStart, { iface: 'eth1' });
  binding.last.deliver([1, 2, 3].map((n) => ({ tsNs: BigInt(n), bytes: probe('1111111111111111', n) })));
  const a = await call(captureCollect, { id, waitMs: 0, maxFrames: 2 });
  t.deepEqual(a.frames.map((f: { tsNs: string }) => f.tsNs), ['1', '2']);
  const b = await call(captureCollect, { id, waitMs: 0 });
  t.deepEqual(b.frames.map((f: { tsNs: string }) => f.tsNs), ['3']);
});

test('a capture that dies (interface down) reports closed with its frames', async (t) => {
  const { binding, call, m } = await setup();
  const { id } = await call(captureStart, { iface: 'eth1' });
  binding.last.deliver([{ tsNs: 1n, bytes: probe('1111111111111111') }]);
  binding.last.fail('The interface went down', 'ENETDOWN');
  const r = await call(captureCollect, { id, waitMs: 1000, minFrames: 3 });
  t.is(r.frames.length, 1);
  t.true(r.closed);
  t.is(m.active(), 0);
});

test('capture.stop closes and releases the lease; stopping again is harmless', async (t) => {
  const { binding, call, ledger } = await setup();
  const { id } = await call(captureStart, { iface: 'eth1' });
  const r = await call(captureStop, { id });
  t.true(r.stopped);
  t.true(binding.last.closed);
  t.is(ledger.leases.size, 0);
  t.false((await call(captureStop, { id })).stopped);
});

test('capture.start rejects unknown params and bad filters before opening', async (t) => {
  const { binding, call } = await setup();
  t.throws(() => captureStart.params.parse({ iface: 'eth1', bogus: 1 }));
  t.throws(() => captureStart.params.parse({ iface: 'eth1', filter: { srcMac: 'x', extra: 1 } }));
  await t.throwsAsync(call(captureStart, { iface: 'eth1', filter: { srcMac: 'not-a-mac' } }), { message: /srcMac/ });
  t.is(binding.handles.length, 0);
});

test('packet.inject sends hex frames as one batch and reports the send window', async (t) => {
  const { binding, call } = await setup();
  const r = await call(packetInject, { iface: 'qvb1', netns: 'vm1', frames: [probe('1111111111111111').toString('hex'), '02000000000102000000000288b5'] });
  t.is(r.sent, 2);
  t.true(BigInt(r.lastTsNs) >= BigInt(r.firstTsNs));
  t.deepEqual(binding.last.sent.map((b) => b.length), [60, 60]);
  t.true(binding.last.closed);
  t.like(binding.last.opts, { injectOnly: true, netnsPath: '/run/netns/vm1' });
});

test('packet.inject with intervalUs sends one by one', async (t) => {
  const { binding, call } = await setup();
  const r = await call(packetInject, { iface: 'qvb1', frames: ['02000000000102000000000288b5', '02000000000102000000000288b5'], intervalUs: 1000, pad: false });
  t.is(r.sent, 2);
  t.deepEqual(binding.last.sent.map((b) => b.length), [14, 14]);
});

test('stopMatcher: DHCP xid with message type, probe count', (t) => {
  const discover = encodeFrame(dhcpDiscover({ mac: '02:00:00:00:00:09', xid: 0x1234 }));
  const f = { tsNs: 0n, caplen: discover.length, len: discover.length, bytes: discover };
  t.true(stopMatcher({ dhcpXid: 0x1234 })(f));
  t.false(stopMatcher({ dhcpXid: 0x1234, dhcpMessageType: 2 })(f));
  t.true(stopMatcher({ dhcpXid: 0x1234, dhcpMessageType: 1 })(f));
  t.false(stopMatcher({ dhcpXid: 0x9999 })(f));
  const m = stopMatcher({ probeId: 'abababababababab', count: 2 });
  const p = probe('abababababababab');
  const pf = { tsNs: 0n, caplen: p.length, len: p.length, bytes: p };
  t.false(m(pf));
  t.true(m(pf));
});
