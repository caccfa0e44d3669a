/**
 * src/capture/remote.ts against in-process "agents": each fake client dispatches to
 * its own createCaptureMethods() instance over the fake native layer, with the same
 * param/result validation the real client does.
 */
import test from 'ava';
import type { z } from 'zod';
import type { AgentContext, LedgerApi, MethodSpec } from '../../../src/rpc/method.js';
import { createCaptureMethods } from '../../../probes/capture/node.js';
import { armCaptures, collectAll, withCaptures, type CaptureClient } from '../../../src/capture/remote.js';
import { fakeBinding, type FakeBinding } from './fake.js';

const ledger: LedgerApi = {
  acquire: () => 'lease',
  release: async () => {},
  renew: () => {},
  has: () => false,
};
const ctx: AgentContext = { signal: new AbortController().signal, nodeName: 'n', ovsdb: undefined, ledger, log: () => {} };

async function agent(name: string, opts: { down?: boolean } = {}): Promise<{ client: CaptureClient; binding: FakeBinding; calls: string[] }> {
  const binding = await fakeBinding();
  const m = createCaptureMethods({ binding });
  const calls: string[] = [];
  const client: CaptureClient = {
    name,
    async call<P extends z.ZodTypeAny, R extends z.ZodTypeAny>(spec: MethodSpec<P, R>, params: z.input<P>): Promise<z.output<R>> {
      calls.push(spec.name);
      if (opts.down) throw new Error(`${name} unreachable`);
      const impl = m.methods.find((x) => x.spec.name === spec.name)!;
      return spec.result.parse(await impl.handler(spec.params.parse(params), ctx));
    },
  };
  return { client, binding, calls };
}

test('armCaptures starts every point; a failing agent is recorded, not thrown', async (t) => {
  const a = await agent('compute-1');
  const b = await agent('network-1', { down: true });
  const armed = await armCaptures([
    { label: 'qvo', client: a.client, iface: 'qvo1', filter: { dhcpXid: 7 } },
    { label: 'phys', client: b.client, iface: 'eth1' },
  ]);
  t.regex(armed[0]!.id!, /^cap-/);
  t.is(a.binding.last.opts!.iface, 'qvo1');
  t.is(armed[1]!.id, undefined);
  t.regex(String(armed[1]!.error), /unreachable/);
});

test('collectAll gathers each point concurrently with per-point expectations and closes them', async (t) => {
  const a = await agent('compute-1');
  const b = await agent('compute-2');
  const armed = await armCaptures([
    { label: 'a', client: a.client, iface: 'tap1', minFrames: 1 },
    { label: 'b', client: b.client, iface: 'tap2', minFrames: 2 },
  ]);
  setImmediate(() => {
    a.binding.last.deliver([{ tsNs: 1n, bytes: Buffer.alloc(60, 1) }]);
    b.binding.last.deliver([{ tsNs: 2n, bytes: Buffer.alloc(60, 2) }, { tsNs: 3n, bytes: Buffer.alloc(64, 3) }]);
  });
  const got = await collectAll(armed, { waitMs: 60_000 });
  t.is(got[0]!.reason, 'minFrames');
  t.is(got[0]!.frames.length, 1);
  t.is(got[0]!.frames[0]!.tsNs, 1n);
  t.true(got[0]!.frames[0]!.bytes.equals(Buffer.alloc(60, 1)));
  t.deepEqual(got[1]!.frames.map((f) => f.caplen), [60, 64]);
  t.true(a.binding.last.closed && b.binding.last.closed);
});

test('withCaptures stops every capture even when the trigger throws', async (t) => {
  const a = await agent('compute-1');
  await t.throwsAsync(
    withCaptures([{ label: 'a', client: a.client, iface: 'tap1' }], async () => {
      throw new Error('inject failed');
    }, { waitMs: 10 }),
    { message: 'inject failed' },
  );
  t.true(a.binding.last.closed);
  t.deepEqual(a.calls, ['capture.start', 'capture.stop']);
});

test('withCaptures returns the trigger result and what each point saw', async (t) => {
  const a = await agent('compute-1');
  const r = await withCaptures([{ label: 'a', client: a.client, iface: 'tap1' }], async () => {
    a.binding.last.deliver([{ tsNs: 9n, bytes: Buffer.alloc(60) }]);
    return 'sent';
  }, { waitMs: 60_000, minFrames: 1 });
  t.is(r.triggered, 'sent');
  t.is(r.captures[0]!.frames.length, 1);
});
