import test from 'ava';
import { mtuHints, searchPathMtu, type ProbeOutcome } from '../../../probes/mtu/search.js';

/** A fake path: sizes ≤ mtu pass; bigger ones time out, or get frag-needed from a router. */
function fakePath(mtu: number, opts: { router?: string; localMtu?: number; lossEvery?: number } = {}) {
  const tried: number[] = [];
  let n = 0;
  const prober = async (size: number): Promise<ProbeOutcome> => {
    tried.push(size);
    n++;
    if (opts.localMtu !== undefined && size > opts.localMtu) return { ok: false, reason: 'local-mtu' };
    if (size > mtu) return opts.router ? { ok: false, reason: 'frag-needed', nextHopMtu: mtu, from: opts.router } : { ok: false, reason: 'timeout' };
    if (opts.lossEvery && n % opts.lossEvery === 0) return { ok: false, reason: 'timeout' };
    return { ok: true };
  };
  return { prober, tried };
}

test('silent drop above 1400: binary search converges on 1400 exactly', async (t) => {
  const { prober } = fakePath(1400);
  const r = await searchPathMtu(prober, { high: 1500 });
  t.is(r.pathMtu, 1400);
  t.is(r.firstFailing, 1401);
  t.is(r.fragNeeded, undefined);
  t.true(r.reachable);
});

test('the whole configured MTU passes: one probe beyond the minimum', async (t) => {
  const { prober, tried } = fakePath(9000);
  const r = await searchPathMtu(prober, { high: 1500 });
  t.is(r.pathMtu, 1500);
  t.is(r.firstFailing, undefined);
  t.deepEqual(tried, [84, 1500]);
});

test('frag-needed with next-hop MTU: that size is tried next and the search ends there', async (t) => {
  const { prober, tried } = fakePath(1450, { router: '10.0.0.1' });
  const r = await searchPathMtu(prober, { high: 1500 });
  t.is(r.pathMtu, 1450);
  t.deepEqual(r.fragNeeded, { size: 1500, from: '10.0.0.1', nextHopMtu: 1450 });
  t.deepEqual(tried, [84, 1500, 1450]);
});

test('a timeout is retried before a size counts as too big (random loss does not shrink the answer)', async (t) => {
  const { prober } = fakePath(1400, { lossEvery: 3 });
  const r = await searchPathMtu(prober, { high: 1500, attempts: 3 });
  t.is(r.pathMtu, 1400);
});

test('local EMSGSIZE is definitive and reported as the local limit', async (t) => {
  const { prober } = fakePath(9000, { localMtu: 1300 });
  const r = await searchPathMtu(prober, { high: 1500 });
  t.is(r.pathMtu, 1300);
  t.is(r.localLimit, 1300);
  t.true(r.probes.filter((p) => !p.outcome.ok).every((p) => p.attempt === 1));
});

test('nothing passes: unreachable, no MTU', async (t) => {
  const r = await searchPathMtu(async () => ({ ok: false, reason: 'timeout' }), { high: 1500, attempts: 1 });
  t.false(r.reachable);
  t.is(r.pathMtu, undefined);
});

test('hints: VXLAN needs 50 bytes below the underlay, mismatched NICs named', (t) => {
  const hints = mtuHints(1500, [
    { node: 'a', iface: 'eth1', mtu: 1500 },
    { node: 'b', iface: 'eth1', mtu: 1500 },
  ], 1450);
  t.true(hints.some((h) => h.level === 'ok' && /tenant MTU ≤ 1450/.test(h.text)));
  t.false(hints.some((h) => h.level === 'warn'));
  const bad = mtuHints(1400, [
    { node: 'a', iface: 'eth1', mtu: 1500 },
    { node: 'b', iface: 'eth1', mtu: 1400 },
  ], 1450);
  t.true(bad.some((h) => h.level === 'warn' && /b:eth1/.test(h.text)));
  t.true(bad.some((h) => h.level === 'warn' && /1450 exceeds 1350/.test(h.text)));
});
