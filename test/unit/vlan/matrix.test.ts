import test from 'ava';
import type { ProbeObservation } from '../../../probes/vlan/analysis.js';
import { cellText, correlateMatrix, formatVlanSet, planMatrix, sendOrder, tagsFor, vlanIndexOf } from '../../../probes/vlan/matrix.js';

test('plan: ordered pairs, per-sender rate bounded so sent + received per NIC ≤ fps', (t) => {
  const plan = planMatrix({ nodes: ['a', 'b', 'c'], vlans: [100, 101], count: 3, fpsPerNic: 3000 });
  t.deepEqual(plan.pairs.map((p) => `${p.from}>${p.to}`), ['a>b', 'a>c', 'b>a', 'b>c', 'c>a', 'c>b']);
  t.is(plan.senders.length, 3);
  for (const s of plan.senders) t.is(s.frames, 6);
  const r = plan.senders[0]!.fps;
  // each NIC sends r and receives from 2 others: 3r ≤ 3000
  t.true(r * 3 <= 3000);
  t.is(r, 1000);
  t.is(plan.totalFrames, 18);
  t.is(plan.sendMs, 6);
});

test('plan rejects fewer than two nodes, an empty set and a zero rate', (t) => {
  t.throws(() => planMatrix({ nodes: ['a', 'a'], vlans: [1], count: 1, fpsPerNic: 10 }));
  t.throws(() => planMatrix({ nodes: ['a', 'b'], vlans: [], count: 1, fpsPerNic: 10 }));
  t.throws(() => planMatrix({ nodes: ['a', 'b'], vlans: [1], count: 1, fpsPerNic: 0 }));
});

test('send order interleaves VLANs and seq encodes the VLAN', (t) => {
  const plan = planMatrix({ nodes: ['a', 'b'], vlans: [10, 20, 30], count: 2, fpsPerNic: 100 });
  const order = sendOrder(plan);
  t.deepEqual(order.map((o) => o.vlan), [10, 20, 30, 10, 20, 30]);
  for (const o of order) t.is(plan.vlans[vlanIndexOf(plan, o.seq)], o.vlan);
  t.is(new Set(order.map((o) => o.seq)).size, 6);
});

test('QinQ: S-tag 802.1ad outer, C-tag 802.1Q inner', (t) => {
  const tags = tagsFor({ qinqInner: 42, pcp: 3 }, 300);
  t.deepEqual(tags, [
    { tpid: 0x88a8, vid: 300, pcp: 3 },
    { tpid: 0x8100, vid: 42, pcp: 3 },
  ]);
});

test('correlation: a VLAN missing one way and rewritten the other lands in the failing summary', (t) => {
  const plan = planMatrix({ nodes: ['a', 'b'], vlans: [100, 200], count: 2, fpsPerNic: 1000 });
  const senders = [
    { node: 'a', probeId: 'pa' },
    { node: 'b', probeId: 'pb' },
  ];
  const mk = (probeId: string, vlan: number, seq: number, seenVid: number): ProbeObservation => ({
    tsNs: 2000n,
    sentNs: 1000n,
    probeId,
    seq,
    tags: [{ tpid: 0x8100, vid: seenVid, pcp: 0 }],
  });
  // a → b: VLAN 100 ok, VLAN 200 lost; b → a: VLAN 100 ok, VLAN 200 rewritten to 201
  const atB = [0, 1].map((i) => mk('pa', 100, plan.count * 0 + i, 100));
  const atA = [...[0, 1].map((i) => mk('pb', 100, i, 100)), ...[0, 1].map((i) => mk('pb', 200, plan.count + i, 201))];
  const res = correlateMatrix(plan, senders, new Map([['b', atB], ['a', atA]]));
  t.false(res.ok);
  t.deepEqual(res.passingEverywhere, [100]);
  t.deepEqual(res.failing, [
    { from: 'a', to: 'b', vlans: [200], notDelivered: [200], partial: [], tagChanged: [] },
    { from: 'b', to: 'a', vlans: [200], notDelivered: [], partial: [], tagChanged: [200] },
  ]);
  const cell = res.cells.find((c) => c.from === 'b' && c.to === 'a' && c.vlan === 200)!;
  t.is(cellText(cell.report), '→201');
  t.is(cellText(res.cells.find((c) => c.from === 'a' && c.vlan === 200)!.report), 'FAIL');
  t.is(cellText(res.cells.find((c) => c.from === 'a' && c.vlan === 100)!.report), 'ok');
});

test('VLAN sets print compressed', (t) => {
  t.is(formatVlanSet([100, 101, 102, 105, 300, 301]), '100-102,105,300-301');
  t.is(formatVlanSet([]), '');
});
