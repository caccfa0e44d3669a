/** fanOut: concurrency limit, order, per-item deadline, no rejection. */
import test from 'ava';
import { fanOut } from '../../../src/rpc/client.js';

test('never more than `concurrency` in flight; results in item order; failures are rows', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const items = Array.from({ length: 20 }, (_, i) => i);
  const out = await fanOut(
    items,
    async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5 + (i % 3)));
      inFlight--;
      if (i === 7) throw new Error('agent 7 is down');
      return i * 2;
    },
    { concurrency: 4 },
  );
  t.is(peak, 4);
  t.deepEqual(out.map((o) => o.item), items);
  t.deepEqual(out.filter((o) => !o.ok).map((o) => o.item), [7]);
  t.is(out[3]!.value, 6);
  t.regex(String((out[7]!.error as Error).message), /down/);
});

test('per-item deadline aborts the item signal; a pre-aborted signal starts nothing', async (t) => {
  const out = await fanOut(
    [1],
    (_i, signal) =>
      new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted by deadline')));
        setTimeout(resolve, 10_000).unref();
      }),
    { perItemTimeoutMs: 20 },
  );
  t.false(out[0]!.ok);
  let started = 0;
  const ac = new AbortController();
  ac.abort();
  const out2 = await fanOut([1, 2], async () => void started++, { signal: ac.signal });
  t.is(started, 0);
  t.true(out2.every((o) => !o.ok));
});
