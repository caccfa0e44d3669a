/**
 * The libpcap addon against real veths in namespaces this file creates.
 */
import test from 'ava';
import { readdirSync, readlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openCapture, openInjector, inject, PcapError, addonAvailable, type Capture, type CapturedFrame } from '../../src/capture/index.js';
import { loadBinding } from '../../src/capture/binding.js';
import { PcapWriter } from '../../src/capture/pcapfile.js';
import { run } from '../../src/host/exec.js';
import { needsRoot, needsTools, skipWith, vethPair } from '../helpers/env.js';

const rootTest = skipWith(needsRoot(test), addonAvailable() ? undefined : 'the libpcap addon is not built (npm run build:native)');

const ETH_PROBE = 0x88b5;

/** Ethernet frame: dst, src, optional tags (outer → inner, [tpid, vid]), EtherType, payload */
function frame(opts: { dst?: string; src?: string; tags?: Array<[number, number]>; etherType?: number; payload?: Buffer; size?: number }): Buffer {
  const mac = (m: string): Buffer => Buffer.from(m.replace(/:/g, ''), 'hex');
  const parts = [mac(opts.dst ?? 'ff:ff:ff:ff:ff:ff'), mac(opts.src ?? '02:00:00:00:00:01')];
  for (const [tpid, vid] of opts.tags ?? []) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(vid, 2);
    parts.push(t);
  }
  const et = Buffer.alloc(2);
  et.writeUInt16BE(opts.etherType ?? ETH_PROBE, 0);
  parts.push(et);
  let f = Buffer.concat([...parts, opts.payload ?? Buffer.alloc(0)]);
  if (opts.size !== undefined && f.length < opts.size) f = Buffer.concat([f, randomBytes(opts.size - f.length)]);
  return f;
}

/** An AbortSignal that fires after ms, with a timer that keeps the process alive (AbortSignal.timeout's does not). */
function after(ms: number): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const tm = setTimeout(() => ac.abort(), ms);
  return { signal: ac.signal, done: () => clearTimeout(tm) };
}

/** Read from `cap` until `n` frames are in (gives up after 5 s). */
async function collect(cap: Capture, n: number): Promise<CapturedFrame[]> {
  const out: CapturedFrame[] = [];
  const { signal, done } = after(5000);
  while (out.length < n && !signal.aborted) out.push(...(await cap.nextBatch({ signal })));
  done();
  return out;
}

/** Frames that arrive within a short quiet period after the ones expected (for "nothing else" checks). */
async function drainQuiet(cap: Capture, ms = 300): Promise<CapturedFrame[]> {
  const out: CapturedFrame[] = [];
  const { signal } = after(ms);
  while (!signal.aborted) out.push(...(await cap.nextBatch({ signal })));
  return out;
}

function nsNow(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

rootTest('injected frames arrive byte-identical across a veth pair (60..1514 bytes)', async (t) => {
  const pair = await vethPair(t, { label: 'capa' });
  const cap = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  t.teardown(() => cap.close());
  const frames = [60, 61, 64, 100, 512, 1000, 1499, 1514].map((size) => frame({ src: pair.a.mac, size }));
  t.is(await inject(pair.a.iface, frames, { netns: pair.a.netns }), frames.length);
  const got = await collect(cap, frames.length);
  t.is(got.length, frames.length);
  got.forEach((f, i) => {
    t.true(f.bytes.equals(frames[i]!), `frame ${i} differs`);
    t.is(f.len, frames[i]!.length);
    t.is(f.caplen, frames[i]!.length);
  });
});

rootTest('frames under 60 bytes are padded with zeros unless pad: false', async (t) => {
  const pair = await vethPair(t, { label: 'capp' });
  const cap = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  t.teardown(() => cap.close());
  const short = frame({ payload: Buffer.from('abcdef', 'hex') }); // 17 bytes
  await inject(pair.a.iface, short, { netns: pair.a.netns });
  await inject(pair.a.iface, short, { netns: pair.a.netns, pad: false });
  const [padded, raw] = await collect(cap, 2);
  t.is(padded!.len, 60);
  t.true(padded!.bytes.subarray(0, short.length).equals(short));
  t.true(padded!.bytes.subarray(short.length).equals(Buffer.alloc(60 - short.length)));
  t.is(raw!.len, short.length);
  t.true(raw!.bytes.equals(short));
});

rootTest('802.1Q and QinQ tags are present in the captured bytes', async (t) => {
  const pair = await vethPair(t, { label: 'capq' });
  const cap = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  t.teardown(() => cap.close());
  const dot1q = frame({ tags: [[0x8100, 100]], size: 80 });
  const qinq = frame({ tags: [[0x88a8, 200], [0x8100, 300]], size: 90 });
  const qinq8100 = frame({ tags: [[0x8100, 10], [0x8100, 20]], size: 90 });
  await inject(pair.a.iface, [dot1q, qinq, qinq8100], { netns: pair.a.netns });
  const got = await collect(cap, 3);
  t.is(got.length, 3);
  t.true(got[0]!.bytes.equals(dot1q));
  t.is(got[0]!.bytes.readUInt16BE(12), 0x8100);
  t.is(got[0]!.bytes.readUInt16BE(14) & 0xfff, 100);
  t.true(got[1]!.bytes.equals(qinq));
  t.true(got[2]!.bytes.equals(qinq8100));
});

// ---- filter table: structured filters × untagged / 802.1Q / QinQ frames ----------------

const MAC_A = '02:aa:00:00:00:01';
const MAC_B = '02:bb:00:00:00:02';
const PROBE_ID = '0123456789abcdef';

function udpFrame(tags: Array<[number, number]>, dport: number, payload: Buffer = Buffer.alloc(16)): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([10, 1, 1, 1]).copy(ip, 12);
  Buffer.from([10, 1, 1, 2]).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return frame({ src: MAC_A, dst: MAC_B, tags, etherType: 0x0800, payload: Buffer.concat([ip, udp, payload]) });
}

function probePayload(id: string): Buffer {
  const p = Buffer.alloc(28);
  p.write('sTH1', 0, 'latin1');
  p[4] = 1;
  p.writeUInt16BE(28, 6);
  Buffer.from(id, 'hex').copy(p, 8);
  return p;
}

const TAGS = {
  untagged: [],
  dot1q100: [[0x8100, 100]],
  qinq200_300: [[0x88a8, 200], [0x8100, 300]],
} satisfies Record<string, Array<[number, number]>>;

interface Row {
  name: string;
  filter: Parameters<typeof openCapture>[0]['filter'];
  /** frame kinds → should match */
  frames: Record<string, { make: (tags: Array<[number, number]>) => Buffer; match: Record<keyof typeof TAGS, boolean> }>;
}

const all = { untagged: true, dot1q100: true, qinq200_300: true };
const none = { untagged: false, dot1q100: false, qinq200_300: false };

const rows: Row[] = [
  {
    name: 'udpPort 67',
    filter: { udpPort: 67 },
    frames: {
      dhcp: { make: (tags) => udpFrame(tags, 67), match: all },
      other: { make: (tags) => udpFrame(tags, 53), match: none },
    },
  },
  {
    name: 'probeId (EtherType 0x88B5 and UDP 5899 forms)',
    filter: { probeId: PROBE_ID },
    frames: {
      ether: { make: (tags) => frame({ tags, payload: probePayload(PROBE_ID) }), match: all },
      udp: { make: (tags) => udpFrame(tags, 5899, probePayload(PROBE_ID)), match: all },
      otherId: { make: (tags) => frame({ tags, payload: probePayload('fedcba9876543210') }), match: none },
    },
  },
  {
    name: 'srcMac + etherType',
    filter: { srcMac: MAC_A, etherType: 0x0800 },
    frames: {
      ip: { make: (tags) => udpFrame(tags, 9), match: all },
      probe: { make: (tags) => frame({ src: MAC_A, tags, payload: probePayload(PROBE_ID) }), match: none },
    },
  },
  {
    name: 'vlan 100 + udpPort 67',
    filter: { vlan: 100, udpPort: 67 },
    frames: {
      dhcp: { make: (tags) => udpFrame(tags, 67), match: { untagged: false, dot1q100: true, qinq200_300: false } },
    },
  },
  {
    name: 'vlan [200, 300] + ip',
    filter: { vlan: [200, 300], ip: '10.1.1.2' },
    frames: {
      dhcp: { make: (tags) => udpFrame(tags, 67), match: { untagged: false, dot1q100: false, qinq200_300: true } },
    },
  },
  {
    name: 'tagged: false + udpPort 67',
    filter: { tagged: false, udpPort: 67 },
    frames: {
      dhcp: { make: (tags) => udpFrame(tags, 67), match: { untagged: true, dot1q100: false, qinq200_300: false } },
    },
  },
  {
    name: 'dhcpXid',
    filter: { dhcpXid: 0xdeadbeef },
    frames: {
      match: { make: (tags) => udpFrame(tags, 67, Buffer.from('01010600deadbeef0000', 'hex')), match: all },
      other: { make: (tags) => udpFrame(tags, 67, Buffer.from('01010600deadbeee0000', 'hex')), match: none },
    },
  },
];

for (const row of rows) {
  rootTest(`filter table: ${row.name} matches the intended tagged/untagged frames`, async (t) => {
    const pair = await vethPair(t, { label: 'capf' });
    // received side (outer tag in metadata) and sending side (tag in the data) both checked
    const rx = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: row.filter! });
    const tx = await openCapture({ iface: pair.a.iface, netns: pair.a.netns, filter: row.filter!, direction: 'out' });
    t.teardown(() => {
      rx.close();
      tx.close();
    });
    const sent: Array<{ key: string; bytes: Buffer; match: boolean }> = [];
    for (const [fname, spec] of Object.entries(row.frames)) {
      for (const [tname, tags] of Object.entries(TAGS)) {
        const bytes = spec.make(tags);
        sent.push({ key: `${fname}/${tname}`, bytes: bytes.length < 60 ? Buffer.concat([bytes, Buffer.alloc(60 - bytes.length)]) : bytes, match: spec.match[tname as keyof typeof TAGS] === true });
      }
    }
    await inject(pair.a.iface, sent.map((s) => s.bytes), { netns: pair.a.netns });
    const expected = sent.filter((s) => s.match);
    for (const [side, cap] of [['rx', rx], ['tx', tx]] as const) {
      const got = [...(await collect(cap, expected.length)), ...(await drainQuiet(cap))];
      const keys = got.map((g) => sent.find((s) => s.bytes.equals(g.bytes))?.key ?? `unknown(${g.bytes.subarray(0, 24).toString('hex')})`);
      t.deepEqual(keys, expected.map((e) => e.key), `${side}: ${cap.filter}`);
    }
  });
}

rootTest('direction: in sees frames from the peer, out sees frames sent on the interface', async (t) => {
  const pair = await vethPair(t, { label: 'capd' });
  const inCap = await openCapture({ iface: pair.a.iface, netns: pair.a.netns, filter: { etherType: ETH_PROBE }, direction: 'in' });
  const outCap = await openCapture({ iface: pair.a.iface, netns: pair.a.netns, filter: { etherType: ETH_PROBE }, direction: 'out' });
  const both = await openCapture({ iface: pair.a.iface, netns: pair.a.netns, filter: { etherType: ETH_PROBE } });
  t.teardown(() => [inCap, outCap, both].forEach((c) => c.close()));
  const fromA = frame({ src: pair.a.mac, size: 64 });
  const fromB = frame({ src: pair.b.mac, size: 64 });
  await inject(pair.a.iface, fromA, { netns: pair.a.netns });
  await inject(pair.b.iface, fromB, { netns: pair.b.netns });
  const i = [...(await collect(inCap, 1)), ...(await drainQuiet(inCap))];
  const o = [...(await collect(outCap, 1)), ...(await drainQuiet(outCap))];
  const b = [...(await collect(both, 2)), ...(await drainQuiet(both))];
  t.deepEqual(i.map((f) => f.bytes.toString('hex')), [fromB.toString('hex')]);
  t.is(i[0]!.direction, 'in');
  t.deepEqual(o.map((f) => f.bytes.toString('hex')), [fromA.toString('hex')]);
  t.is(o[0]!.direction, 'out');
  t.is(b.length, 2);
});

rootTest('timestamps are nanosecond, monotonic and inside the send window', async (t) => {
  const pair = await vethPair(t, { label: 'capt' });
  const cap = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  t.teardown(() => cap.close());
  t.is(cap.tsPrecision, 'nano');
  const frames = Array.from({ length: 200 }, (_, i) => frame({ size: 64 + (i % 50) }));
  const inj = await openInjector(pair.a.iface, { netns: pair.a.netns });
  t.teardown(() => inj.close());
  const before = nsNow() - 2_000_000n; // Date.now() has ms resolution: allow 2 ms either side
  for (const f of frames) inj.send(f);
  const got = await collect(cap, frames.length);
  const after = nsNow() + 2_000_000n;
  t.is(got.length, frames.length);
  for (let i = 0; i < got.length; i++) {
    t.true(got[i]!.tsNs >= before && got[i]!.tsNs <= after, `frame ${i} at ${got[i]!.tsNs} outside [${before}, ${after}]`);
    if (i > 0) t.true(got[i]!.tsNs >= got[i - 1]!.tsNs, `frame ${i} earlier than frame ${i - 1}`);
  }
  // nanosecond precision: not every timestamp is a whole microsecond
  t.true(got.some((f) => f.tsNs % 1000n !== 0n));
});

// ---- errors ----------------------------------------------------------------------------

rootTest('errors are typed: nonexistent interface → ENODEV', async (t) => {
  const pair = await vethPair(t, { label: 'cape' });
  const err = await t.throwsAsync(openCapture({ iface: 'nosuch0', netns: pair.a.netns }), { instanceOf: PcapError, message: /nosuch0/ });
  t.is(err?.code, 'ENODEV');
  t.is((await t.throwsAsync(openInjector('nosuch0', { netns: pair.a.netns }), { instanceOf: PcapError }))?.code, 'ENODEV');
});

rootTest('errors are typed: interface down → ENETDOWN (capture and inject)', async (t) => {
  const pair = await vethPair(t, { label: 'capn', down: true });
  const err = await t.throwsAsync(openCapture({ iface: pair.a.iface, netns: pair.a.netns }), { instanceOf: PcapError });
  t.is(err?.code, 'ENETDOWN');
  t.truthy(err?.hint);
  const inj = await t.throwsAsync(inject(pair.a.iface, frame({ size: 64 }), { netns: pair.a.netns }), { instanceOf: PcapError });
  t.is(inj?.code, 'ENETDOWN');
});

rootTest.serial('errors are typed: bad filter → EFILTER and nothing stays open', async (t) => {
  const pair = await vethPair(t, { label: 'capb' });
  const fds = readdirSync('/proc/self/fd').length;
  const err = await t.throwsAsync(openCapture({ iface: pair.a.iface, netns: pair.a.netns, filter: 'udp port banana' }), { instanceOf: PcapError });
  t.is(err?.code, 'EFILTER');
  t.is(readdirSync('/proc/self/fd').length, fds);
  const cap = await openCapture({ iface: pair.a.iface, netns: pair.a.netns, filter: 'udp' });
  t.teardown(() => cap.close());
  t.is(t.throws(() => cap.setFilter('ether proto 0x1x'), { instanceOf: PcapError })?.code, 'EFILTER');
  t.is(cap.filter, 'udp');
});

rootTest('errors are typed: oversize frame → EMSGSIZE (kernel MTU and 64 KiB limit)', async (t) => {
  const pair = await vethPair(t, { label: 'capo' });
  const inj = await openInjector(pair.a.iface, { netns: pair.a.netns });
  t.teardown(() => inj.close());
  t.is(t.throws(() => inj.send(frame({ size: 1515 })), { instanceOf: PcapError })?.code, 'EMSGSIZE');
  t.is(t.throws(() => inj.send(Buffer.alloc(70000)), { instanceOf: PcapError })?.code, 'EMSGSIZE');
  const batchErr = t.throws(() => inj.sendBatch([frame({ size: 100 }), frame({ size: 2000 })]), { instanceOf: PcapError });
  t.is(batchErr?.code, 'EMSGSIZE');
  t.is(batchErr?.sent, 1);
  t.is(inj.send(frame({ size: 1514 })), 1514);
});

rootTest('errors are typed: closed handle → ECLOSED; close is idempotent', async (t) => {
  const pair = await vethPair(t, { label: 'capc' });
  const cap = await openCapture({ iface: pair.a.iface, netns: pair.a.netns });
  cap.close();
  cap.close();
  t.true(cap.closed);
  t.is(t.throws(() => cap.setFilter('udp'), { instanceOf: PcapError })?.code, 'ECLOSED');
  t.deepEqual(await cap.nextBatch(), []);
  const inj = await openInjector(pair.a.iface, { netns: pair.a.netns });
  inj.close();
  inj.close();
  t.is(t.throws(() => inj.send(frame({ size: 64 })), { instanceOf: PcapError })?.code, 'ECLOSED');
  t.is(t.throws(() => inj.sendBatch([frame({ size: 64 })]), { instanceOf: PcapError })?.code, 'ECLOSED');
});

const childScript = (body: string): string =>
  `import { openCapture, inject } from ${JSON.stringify(new URL('../../src/capture/index.js', import.meta.url).href)};\n${body}`;

needsTools(rootTest, ['setpriv'])('errors are typed: no CAP_NET_RAW (setpriv drops it) → EPERM', async (t) => {
  const pair = await vethPair(t, { label: 'capr' });
  const body = `
    const out = {};
    try { await openCapture({ iface: ${JSON.stringify(pair.a.iface)}, netns: ${JSON.stringify(pair.a.netns)} }); out.capture = 'opened'; }
    catch (e) { out.capture = e.name + ':' + e.code; }
    try { await inject(${JSON.stringify(pair.a.iface)}, Buffer.alloc(60), { netns: ${JSON.stringify(pair.a.netns)} }); out.inject = 'sent'; }
    catch (e) { out.inject = e.name + ':' + e.code; }
    console.log(JSON.stringify(out));`;
  const r = await run('setpriv', ['--inh-caps=-all', '--bounding-set=-net_raw,-net_admin', process.execPath, '--input-type=module', '-e', childScript(body)], { timeoutMs: 20_000 });
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { capture: string; inject: string };
  t.is(out.capture, 'PcapError:EPERM');
  t.is(out.inject, 'PcapError:EPERM');
});

rootTest.serial('10,000 open/close cycles, 16 in flight, leave the fd count flat (closed while opening too)', async (t) => {
  const pair = await vethPair(t, { label: 'capl' });
  const count = (): number => readdirSync('/proc/self/fd').length;
  const ns = { netns: pair.a.netns };
  // warm-up (lazy loads, libuv internals)
  await (await openCapture({ iface: pair.a.iface, ...ns })).close();
  const before = count();
  const kinds = { injector: 0, capture: 0, badFilter: 0, closedWhileOpening: 0 };
  const cycle = async (i: number): Promise<void> => {
    switch (i % 4) {
      case 0:
        await (await openInjector(pair.a.iface, ns)).close();
        kinds.injector++;
        break;
      case 1:
        await (await openCapture({ iface: pair.a.iface, ...ns, bufferSize: 65536, filter: 'udp' })).close();
        kinds.capture++;
        break;
      case 2: {
        // the open thread closes what it made before rejecting
        const err = await openCapture({ iface: pair.a.iface, ...ns, bufferSize: 65536, filter: 'udp port x' }).catch((e: unknown) => e);
        if (err instanceof PcapError && err.code === 'EFILTER') kinds.badFilter++;
        break;
      }
      default: {
        // close() while the open is still on its thread: the open rejects ECLOSED and the
        // socket it made is released; close()'s promise waits for that
        const h = new (loadBinding().Handle)();
        const opening = h.open({ iface: pair.a.iface, netnsPath: `/run/netns/${pair.a.netns}`, snaplen: 128, promisc: false, immediate: true, bufferSize: 65536, nano: true });
        await h.close();
        const err = await opening.catch((e: unknown) => e);
        if (err instanceof PcapError && err.code === 'ECLOSED') kinds.closedWhileOpening++;
      }
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 10_000) await cycle(next++);
    }),
  );
  // uv_close of the poll handles completes on the next loop turn
  await new Promise((r) => setImmediate(r));
  t.deepEqual(kinds, { injector: 2500, capture: 2500, badFilter: 2500, closedWhileOpening: 2500 });
  t.is(count(), before);
});

rootTest('captures inside a named namespace from another namespace; the main thread never leaves its own', async (t) => {
  const pair = await vethPair(t, { label: 'capns' });
  const own = readlinkSync('/proc/thread-self/ns/net');
  const ownProc = readlinkSync('/proc/self/ns/net');
  // the interface exists only inside the namespace: the root namespace has no such name
  t.is((await run('ip', ['link', 'show', 'dev', pair.b.iface], { allowFail: true })).code !== 0, true);
  // the socket is made on a thread of the addon's that enters the namespace; this thread
  // stays where it is while the open is in flight and after
  const opening = openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  t.is(readlinkSync('/proc/thread-self/ns/net'), own);
  const cap = await opening;
  t.teardown(() => cap.close());
  t.is(readlinkSync('/proc/thread-self/ns/net'), own);
  t.is(readlinkSync('/proc/self/ns/net'), ownProc);
  const inj = await openInjector(pair.a.iface, { netns: `/run/netns/${pair.a.netns}` }); // path form
  t.teardown(() => inj.close());
  t.is(readlinkSync('/proc/thread-self/ns/net'), own);
  const f = frame({ size: 70 });
  inj.send(f);
  const got = await collect(cap, 1);
  t.true(got[0]?.bytes.equals(f));
  // a failed open (no such namespace) also leaves the thread where it was
  t.is((await t.throwsAsync(openCapture({ iface: 'lo', netns: 'steth-no-such-ns' }), { instanceOf: PcapError }))?.code, 'ENOENT');
  t.is(readlinkSync('/proc/thread-self/ns/net'), own);
});

rootTest('close from inside the frame loop is safe; pending frames stay readable', async (t) => {
  const pair = await vethPair(t, { label: 'capx' });
  const cap = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  const frames = Array.from({ length: 50 }, () => frame({ size: 64 }));
  await inject(pair.a.iface, frames, { netns: pair.a.netns });
  let n = 0;
  for await (const f of cap) {
    t.is(f.len, 64);
    n++;
    if (n === 1) cap.close();
  }
  t.true(cap.closed);
  t.true(n >= 1);
});

rootTest('an idle capture does not keep the process alive; keepAlive does', async (t) => {
  const pair = await vethPair(t, { label: 'capk' });
  const idle = await run(process.execPath, ['--input-type=module', '-e', childScript(`
    const c = await openCapture({ iface: ${JSON.stringify(pair.b.iface)}, netns: ${JSON.stringify(pair.b.netns)} });
    (async () => { for await (const f of c) console.log('frame'); })();
    console.log('armed');`)], { timeoutMs: 20_000 });
  t.is(idle.stdout.trim(), 'armed'); // exited by itself with the capture still open
  // keepAlive: the child stays until a frame arrives, then closes and exits
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--input-type=module', '-e', childScript(`
    const c = await openCapture({ iface: ${JSON.stringify(pair.b.iface)}, netns: ${JSON.stringify(pair.b.netns)}, keepAlive: true, filter: 'ether proto 0x88b5' });
    console.log('armed');
    for await (const f of c) { console.log('frame ' + f.len); c.close(); }`)]);
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('armed')) resolve(); }));
  await inject(pair.a.iface, frame({ size: 64 }), { netns: pair.a.netns });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.is(code, 0);
  t.regex(out, /frame 64/);
});

needsTools(rootTest, ['tshark'])('pcap files written from a capture are read back by tshark with the same count and bytes', async (t) => {
  const pair = await vethPair(t, { label: 'capw' });
  const dir = mkdtempSync(join(tmpdir(), 'steth-cap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cap = await openCapture({ iface: pair.b.iface, netns: pair.b.netns, filter: { etherType: ETH_PROBE } });
  t.teardown(() => cap.close());
  const frames = [frame({ size: 60 }), frame({ tags: [[0x8100, 42]], size: 300 }), frame({ tags: [[0x88a8, 1], [0x8100, 2]], size: 1400 })];
  await inject(pair.a.iface, frames, { netns: pair.a.netns });
  const got = await collect(cap, frames.length);
  const path = join(dir, 'cap.pcap');
  const w = new PcapWriter(path, { linkType: cap.linkType, snaplen: cap.snaplen });
  for (const f of got) w.write(f.tsNs, f.bytes, f.len);
  await w.close();
  const r = await run('tshark', ['-r', path, '-T', 'json', '-x'], { timeoutMs: 60_000 });
  const pkts = JSON.parse(r.stdout) as Array<{ _source: { layers: { frame_raw: [string, ...unknown[]] } } }>;
  t.is(pkts.length, frames.length);
  pkts.forEach((p, i) => t.is(p._source.layers.frame_raw[0], frames[i]!.toString('hex')));
});
