import test from 'ava';
import { analyzeDelivery, compareTags, type ProbeObservation, type Tag } from '../../../probes/vlan/analysis.js';

const Q = 0x8100;
const AD = 0x88a8;
const tag = (vid: number, pcp = 0, tpid = Q): Tag => ({ tpid, vid, pcp });

function obs(seq: number, tags: Tag[], latencyNs = 50_000n, probeId = 'p1'): ProbeObservation {
  const sentNs = 1_700_000_000_000_000_000n + BigInt(seq) * 1_000_000n;
  return { tsNs: sentNs + latencyNs, tags, probeId, seq, sentNs };
}

test('all frames with the same tag: delivered, tag same, latency from the probe timestamps', (t) => {
  const r = analyzeDelivery({ probeId: 'p1', sent: 3, expectedTags: [tag(100, 5)], observations: [0, 1, 2].map((s) => obs(s, [tag(100, 5)], BigInt(10_000 * (s + 1)))) });
  t.is(r.status, 'delivered');
  t.is(r.delivered, 3);
  t.is(r.lost, 0);
  t.is(r.duplicates, 0);
  t.is(r.tag.verdict, 'same');
  t.deepEqual(r.pcp, { expected: 5, seen: [5] });
  t.deepEqual(r.latency, { minNs: 10_000, avgNs: 20_000, maxNs: 30_000 });
  t.false(r.clockSkewSuspected);
});

test('tag rewritten to another VID is reported with the new VID', (t) => {
  const r = analyzeDelivery({ probeId: 'p1', sent: 2, expectedTags: [tag(100)], observations: [obs(0, [tag(200)]), obs(1, [tag(200)])] });
  t.is(r.tag.verdict, 'rewritten');
  t.deepEqual(r.tag.seen, [[200]]);
  t.regex(r.tag.text, /100 → 200/);
});

test('untagged arrival is "stripped"; an extra outer tag is "added"', (t) => {
  t.is(analyzeDelivery({ probeId: 'p1', sent: 1, expectedTags: [tag(100)], observations: [obs(0, [])] }).tag.verdict, 'stripped');
  t.is(compareTags([tag(100)], [[tag(300, 0, AD), tag(100)]]).verdict, 'added');
  t.is(compareTags([tag(300, 0, AD), tag(100)], [[tag(100)]]).verdict, 'stripped');
  t.is(compareTags([tag(300, 0, AD), tag(100)], [[tag(301, 0, AD), tag(100)]]).verdict, 'rewritten');
});

test('two different stacks for one direction are "mixed"', (t) => {
  const r = analyzeDelivery({ probeId: 'p1', sent: 2, expectedTags: [tag(100)], observations: [obs(0, [tag(100)]), obs(1, [tag(200)])] });
  t.is(r.tag.verdict, 'mixed');
});

test('nothing captured: not delivered, 100 % loss, no latency', (t) => {
  const r = analyzeDelivery({ probeId: 'p1', sent: 5, expectedTags: [tag(100)], observations: [] });
  t.is(r.status, 'not delivered');
  t.is(r.lost, 5);
  t.is(r.lossPct, 100);
  t.is(r.latency, undefined);
  t.is(r.tag.verdict, 'none');
});

test('partial delivery counts loss; duplicates are counted once as delivered', (t) => {
  const observations = [obs(0, [tag(7)]), obs(0, [tag(7)]), obs(2, [tag(7)]), obs(3, [tag(7)]), obs(3, [tag(7)]), obs(3, [tag(7)])];
  const r = analyzeDelivery({ probeId: 'p1', sent: 4, expectedTags: [tag(7)], observations });
  t.is(r.status, 'partial');
  t.is(r.delivered, 3);
  t.is(r.lost, 1);
  t.is(r.lossPct, 25);
  t.is(r.duplicates, 3);
});

test('frames of another probe id or an unknown seq are ignored', (t) => {
  const r = analyzeDelivery({ probeId: 'p1', sent: 2, expectedTags: [tag(7)], observations: [obs(0, [tag(7)], 1n, 'other'), obs(9, [tag(7)])] });
  t.is(r.delivered, 0);
  t.is(r.unexpected, 1);
});

test('a frame captured before it was sent flags clock skew', (t) => {
  const r = analyzeDelivery({ probeId: 'p1', sent: 1, expectedTags: [tag(7)], observations: [obs(0, [tag(7)], -5_000_000n)] });
  t.true(r.clockSkewSuspected);
  t.is(r.latency?.minNs, -5_000_000);
  const small = analyzeDelivery({ probeId: 'p1', sent: 1, expectedTags: [tag(7)], observations: [obs(0, [tag(7)], -5_000n)] });
  t.false(small.clockSkewSuspected, 'a few µs of stamping error is not clock skew');
});

test('reordering is counted', (t) => {
  const a = obs(1, [tag(7)]);
  const b = { ...obs(0, [tag(7)]), tsNs: a.tsNs + 1n };
  const r = analyzeDelivery({ probeId: 'p1', sent: 2, expectedTags: [tag(7)], observations: [a, b] });
  t.is(r.reordered, 1);
});
