import test from 'ava';
import { analyzeArp, type ArpReplyObservation } from '../../../probes/arp/analysis.js';

const reply = (mac: string, tsNs: bigint, extra: Partial<ArpReplyObservation> = {}): ArpReplyObservation => ({
  tsNs,
  senderMac: mac,
  senderIp: '10.1.0.5',
  targetMac: '02:00:00:00:00:01',
  targetIp: '10.1.0.1',
  ethSrc: mac,
  vlans: [],
  op: 2,
  ...extra,
});

test('one replier: answered, its MAC, time to first reply', (t) => {
  const a = analyzeArp('10.1.0.5', 1_000_000n, [reply('02:aa:00:00:00:05', 1_250_000n)]);
  t.true(a.answered);
  t.false(a.duplicate);
  t.is(a.repliers.length, 1);
  t.is(a.repliers[0]!.mac, '02:aa:00:00:00:05');
  t.is(a.repliers[0]!.firstReplyMs, 0.25);
  t.regex(a.verdict, /is at 02:aa:00:00:00:05/);
});

test('two MACs for one IP are flagged as duplicate', (t) => {
  const a = analyzeArp('10.1.0.5', 0n, [reply('02:aa:00:00:00:05', 10n), reply('02:bb:00:00:00:05', 20n), reply('02:aa:00:00:00:05', 30n)]);
  t.true(a.duplicate);
  t.deepEqual(a.repliers.map((r) => [r.mac, r.replies]), [['02:aa:00:00:00:05', 2], ['02:bb:00:00:00:05', 1]]);
  t.regex(a.verdict, /DUPLICATE/);
});

test('no reply, requests and replies for other IPs are not answers', (t) => {
  const a = analyzeArp('10.1.0.5', 0n, [reply('02:aa:00:00:00:05', 10n, { op: 1 }), reply('02:aa:00:00:00:06', 10n, { senderIp: '10.1.0.6' })]);
  t.false(a.answered);
  t.regex(a.verdict, /no ARP reply/);
});

test('Ethernet source differing from the ARP sender MAC is noted', (t) => {
  const a = analyzeArp('10.1.0.5', 0n, [reply('02:aa:00:00:00:05', 10n, { ethSrc: '02:cc:00:00:00:01' })]);
  t.true(a.ethMismatch);
});
