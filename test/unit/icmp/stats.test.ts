import test from 'ava';
import { describeIcmpError, pingStats } from '../../../probes/icmp/stats.js';

test('ping stats: loss, min/avg/max and mdev as iputils computes them', (t) => {
  const s = pingStats(4, [1, 2, 3]);
  t.is(s.received, 3);
  t.is(s.lossPct, 25);
  // mean 2, mean of squares 14/3 → mdev = sqrt(14/3 - 4) = 0.816
  t.deepEqual(s.rtt, { min: 1, avg: 2, max: 3, mdev: 0.816 });
});

test('ping stats: nothing back → 100 % loss and no rtt', (t) => {
  const s = pingStats(3, []);
  t.is(s.lossPct, 100);
  t.is(s.rtt, undefined);
});

test('ping stats: a single reply has mdev 0', (t) => {
  t.is(pingStats(1, [0.5]).rtt?.mdev, 0);
});

test('ICMP errors decoded: frag-needed carries the next-hop MTU, unreachable and time exceeded named', (t) => {
  const f = describeIcmpError(3, 4, '10.0.0.1', 1400);
  t.is(f.kind, 'frag-needed');
  t.is(f.nextHopMtu, 1400);
  t.regex(f.text, /next-hop MTU 1400/);
  t.is(describeIcmpError(3, 1, '10.0.0.1').kind, 'unreachable');
  t.regex(describeIcmpError(3, 3, '10.0.0.1').text, /port unreachable/);
  const te = describeIcmpError(11, 0, '10.0.0.254');
  t.is(te.kind, 'time-exceeded');
  t.regex(te.text, /TTL expired/);
});
