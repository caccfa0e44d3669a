/**
 * Capture / Injector logic over a fake native layer: option validation, batch
 * unpacking, queueing, close semantics, error propagation, ref/unref.
 */
import test from 'ava';
import { openCapture, openInjector, inject, PcapError } from '../../../src/capture/index.js';
import { fakeBinding } from './fake.js';

const frame = (n: number, size = 64): Buffer => {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(n, 14);
  return b;
};

test('options reach the native open with defaults (snaplen 1600, promisc, immediate, 32 MiB, nano) and netns as a path', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'tap1', netns: 'qdhcp-1' }, { binding });
  const o = binding.last.opts!;
  t.like(o, { iface: 'tap1', netnsPath: '/run/netns/qdhcp-1', snaplen: 1600, promisc: true, immediate: true, bufferSize: 32 * 1024 * 1024, nano: true, direction: 'inout' });
  t.is(o.filter, undefined);
  t.is(cap.linkType, 1);
  t.is(cap.tsPrecision, 'nano');
  cap.close();
});

test('structured filters are compiled to BPF text before crossing; raw strings pass unchanged', async (t) => {
  const binding = await fakeBinding();
  void (await openCapture({ iface: 'eth1', filter: { udpPort: 67 } }, { binding })).close();
  t.regex(binding.last.opts!.filter!, /= 67/);
  void (await openCapture({ iface: 'eth1', filter: 'arp' }, { binding })).close();
  t.is(binding.last.opts!.filter, 'arp');
});

test('bad options are PcapError EINVAL and nothing is opened', async (t) => {
  const binding = await fakeBinding();
  const cases: Array<Parameters<typeof openCapture>[0]> = [
    { iface: 'eth0; rm -rf /' },
    { iface: '' },
    { iface: 'averyveryverylongname' },
    { iface: 'eth1', netns: '../etc' },
    { iface: 'eth1', netns: 'relative/path' },
    { iface: 'eth1', snaplen: 10 },
    { iface: 'eth1', snaplen: 1.5 },
    { iface: 'eth1', bufferSize: 10 },
    { iface: 'eth1', direction: 'sideways' as never },
    { iface: 'eth1', filter: { udpPort: 70000 } },
    { iface: 'eth1', filter: 'udp\0' },
  ];
  for (const c of cases) {
    const err = await t.throwsAsync(openCapture(c, { binding }), { instanceOf: PcapError }, JSON.stringify(c));
    t.is(err?.code, 'EINVAL', JSON.stringify(c));
  }
  t.is(binding.handles.length, 0);
});

test('an absolute namespace path is passed as is', async (t) => {
  const binding = await fakeBinding();
  void (await openCapture({ iface: 'eth1', netns: '/proc/1/ns/net' }, { binding })).close();
  t.is(binding.last.opts!.netnsPath, '/proc/1/ns/net');
});

test('native open errors surface as the PcapError the addon threw', async (t) => {
  const binding = await fakeBinding();
  binding.failOpen = { message: 'eth9: No such device exists', code: 'ENODEV', status: -5 };
  const err = await t.throwsAsync(openCapture({ iface: 'eth9' }, { binding }), { instanceOf: PcapError });
  t.is(err?.code, 'ENODEV');
  t.is(err?.pcapStatus, -5);
  t.is(err?.stethCode, 'ENOENT');
  t.truthy(err?.hint);
});

test('an activate warning is reported, not thrown', async (t) => {
  const binding = await fakeBinding();
  binding.warning = "That device doesn't support promiscuous mode";
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  t.is(cap.warning, binding.warning);
  cap.close();
});

test('batches are unpacked into frames with bigint ns timestamps, caplen and len', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1', direction: 'in' }, { binding });
  binding.last.deliver([
    { tsNs: 1_700_000_000_123_456_789n, bytes: frame(1) },
    { tsNs: 1_700_000_000_123_456_790n, bytes: frame(2, 100), len: 1500 },
  ]);
  const got = await cap.nextBatch();
  t.is(got.length, 2);
  t.is(got[0]!.tsNs, 1_700_000_000_123_456_789n);
  t.is(got[0]!.caplen, 64);
  t.is(got[0]!.bytes.readUInt32BE(14), 1);
  t.is(got[0]!.direction, 'in');
  t.is(got[1]!.caplen, 100);
  t.is(got[1]!.len, 1500);
  t.is(got[1]!.bytes.readUInt32BE(14), 2);
  cap.close();
});

test('the async iterator yields frames in order across batches and ends on close', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  const h = binding.last;
  setImmediate(() => {
    h.deliver([{ tsNs: 1n, bytes: frame(1) }, { tsNs: 2n, bytes: frame(2) }]);
    setImmediate(() => {
      h.deliver([{ tsNs: 3n, bytes: frame(3) }]);
      setImmediate(() => cap.close());
    });
  });
  const seen: number[] = [];
  for await (const f of cap) seen.push(f.bytes.readUInt32BE(14));
  t.deepEqual(seen, [1, 2, 3]);
  t.true(cap.closed);
});

test('close inside a frame handler is deferred by the native layer and idempotent', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  const h = binding.last;
  const p = cap.nextBatch().then((frames) => {
    cap.close();
    cap.close();
    return frames.length;
  });
  h.deliver([{ tsNs: 1n, bytes: frame(1) }]);
  t.is(await p, 1);
  t.true(cap.closed);
  t.is(h.closeCalls, 1);
  t.deepEqual(await cap.nextBatch(), []);
});

test('leaving a for-await loop closes the capture', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  setImmediate(() => binding.last.deliver([{ tsNs: 1n, bytes: frame(1) }, { tsNs: 2n, bytes: frame(2) }]));
  for await (const f of cap) {
    t.is(f.tsNs, 1n);
    break;
  }
  t.true(cap.closed);
});

test('a native error (interface went down) rejects waiting readers after queued frames are read', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  const h = binding.last;
  h.deliver([{ tsNs: 1n, bytes: frame(1) }]);
  h.fail('The interface went down', 'ENETDOWN');
  t.true(cap.closed);
  t.is((await cap.nextBatch()).length, 1);
  const err = await t.throwsAsync(cap.nextBatch(), { instanceOf: PcapError });
  t.is(err?.code, 'ENETDOWN');
});

test('nextBatch resolves [] when its signal aborts and the capture stays usable', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  const ac = new AbortController();
  const p = cap.nextBatch({ signal: ac.signal });
  ac.abort();
  t.deepEqual(await p, []);
  binding.last.deliver([{ tsNs: 5n, bytes: frame(5) }]);
  t.is((await cap.nextBatch())[0]!.tsNs, 5n);
  cap.close();
});

test('frames beyond maxQueue are dropped and counted, not buffered without bound', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1', maxQueue: 3 }, { binding });
  binding.last.stat = { recv: 5, drop: 0, ifdrop: 0 };
  binding.last.deliver([1, 2, 3, 4, 5].map((n) => ({ tsNs: BigInt(n), bytes: frame(n) })));
  t.is(cap.pending, 3);
  t.like(cap.stats(), { recv: 5, queueDrop: 2, delivered: 3 });
  cap.close();
  t.like(cap.stats(), { recv: 5, queueDrop: 2, delivered: 3 }); // snapshot survives close
});

test('unref by default; keepAlive refs the poll handle', async (t) => {
  const binding = await fakeBinding();
  const idle = await openCapture({ iface: 'eth1' }, { binding });
  t.false(binding.last.refd);
  const kept = await openCapture({ iface: 'eth1', keepAlive: true }, { binding });
  t.true(binding.last.refd);
  idle.close();
  kept.close();
});

test('setFilter validates structured conditions and keeps the old filter on failure', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1', filter: 'udp' }, { binding });
  t.throws(() => cap.setFilter({ srcMac: 'nope' }), { instanceOf: PcapError, message: /srcMac/ });
  t.is(t.throws(() => cap.setFilter('banana'), { instanceOf: PcapError })?.code, 'EFILTER');
  t.deepEqual(binding.last.filters, ['udp']);
  cap.close();
  t.is(t.throws(() => cap.setFilter('udp'), { instanceOf: PcapError })?.code, 'ECLOSED');
});

test('injector: inject-only open, padding by default, pad: false, batch, frame checks', async (t) => {
  const binding = await fakeBinding();
  const inj = await openInjector('qvb1', { netns: 'vm-1', binding });
  t.like(binding.last.opts, { iface: 'qvb1', injectOnly: true, netnsPath: '/run/netns/vm-1' });
  t.is(inj.send(Buffer.alloc(42)), 60);
  t.is(inj.sendBatch([Buffer.alloc(20), Buffer.alloc(100)]), 2);
  t.deepEqual(binding.last.sent.map((b) => b.length), [60, 60, 100]);
  t.is(t.throws(() => inj.send(Buffer.alloc(70000)), { instanceOf: PcapError })?.code, 'EMSGSIZE');
  t.is(t.throws(() => inj.send(Buffer.alloc(10)), { instanceOf: PcapError })?.code, 'EINVAL');
  t.is(t.throws(() => inj.sendBatch([Buffer.alloc(60), 'x' as never]), { instanceOf: PcapError })?.code, 'EINVAL');
  t.is(binding.last.sent.length, 3, 'a batch with a bad frame sends nothing');
  inj.close();
  inj.close();
  t.is(t.throws(() => inj.send(Buffer.alloc(60)), { instanceOf: PcapError })?.code, 'ECLOSED');
  t.is(t.throws(() => inj.sendBatch([]), { instanceOf: PcapError })?.code, 'ECLOSED');

  const raw = await openInjector('qvb1', { pad: false, binding });
  raw.send(Buffer.alloc(42));
  t.is(binding.last.sent[0]!.length, 42);
  raw.close();
});

test('inject() opens, sends and closes even when sending fails', async (t) => {
  const binding = await fakeBinding();
  t.is(await inject('eth1', [Buffer.alloc(60), Buffer.alloc(60)], { binding }), 2);
  t.is(binding.last.closeCalls, 1);
  await t.throwsAsync(inject('eth1', Buffer.alloc(3), { binding }), { instanceOf: PcapError });
  t.is(binding.last.closeCalls, 1);
});

test('a capture sends through its own handle (padding like an injector) and refuses once closed', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'qvb1', direction: 'in' }, { binding });
  const h = binding.last;
  t.is(cap.send(Buffer.alloc(42)), 60);
  t.is(cap.send(Buffer.alloc(42), false), 42);
  t.is(cap.sendBatch([Buffer.alloc(20), Buffer.alloc(100)]), 2);
  t.deepEqual(h.sent.map((b) => b.length), [60, 42, 60, 100]);
  t.is(binding.handles.length, 1, 'no second handle was opened to send');
  t.is(t.throws(() => cap.send(Buffer.alloc(10)), { instanceOf: PcapError })?.code, 'EINVAL');
  await cap.close();
  t.is(t.throws(() => cap.send(Buffer.alloc(60)), { instanceOf: PcapError })?.code, 'ECLOSED');
});

test('close() returns the same settled promise every time and calls the native close once', async (t) => {
  const binding = await fakeBinding();
  const cap = await openCapture({ iface: 'eth1' }, { binding });
  const a = cap.close();
  const b = cap.close();
  t.is(a, b);
  await a;
  t.is(binding.last.closeCalls, 1);
});
