import test from 'ava';
import { parseDests, pingResult } from '../../../probes/icmp/run.js';
import { buildEcho, parseIcmp } from '../../../probes/icmp/engine.js';
import type { PingResultWire } from '../../../probes/icmp/contract.js';

const base = (dest: string, o: Partial<PingResultWire>): PingResultWire => ({ dest, ipSize: 84, df: false, sent: 3, received: 3, lossPct: 0, duplicates: 0, replies: [], errors: [], sendErrors: [], status: 'ok', rtt: { min: 1, avg: 2, max: 3, mdev: 0.8 }, ...o });

test('destinations: the original comma form, de-duplicated, validated', (t) => {
  t.deepEqual(parseDests('10.0.0.1, 10.0.0.2,10.0.0.1'), ['10.0.0.1', '10.0.0.2']);
  t.throws(() => parseDests('10.0.0.1,nope'), { message: /not an IPv4 address/ });
  t.throws(() => parseDests(' , '), { message: /no destination/ });
});

test('ping result: one row per destination; loss and frag-needed in the verdict', (t) => {
  const r = pingResult('c1', [
    base('10.0.0.1', {}),
    base('10.0.0.2', { status: 'partial', received: 2, lossPct: 33.3 }),
    base('10.0.0.3', { status: 'frag-needed', received: 0, lossPct: 100, rtt: undefined, errors: [{ kind: 'frag-needed', type: 3, code: 4, from: '10.0.0.254', nextHopMtu: 1400, text: 'frag needed and DF set (from 10.0.0.254, next-hop MTU 1400)', count: 3 }] }),
  ], { df: true, size: 1472 });
  t.false(r.ok);
  t.is(r.tables[0]!.rows.length, 3);
  t.is(r.tables[0]!.rows[0]!['rtt min/avg/max/mdev ms'], '1/2/3/0.8');
  t.regex(r.verdict, /10.0.0.2: 33.3% loss/);
  t.regex(r.verdict, /next-hop MTU 1400/);
  t.regex(String(r.tables[0]!.rows[2]!['ICMP errors']), /×3/);
});

test('echo request built with our codec: DF, TTL, id/seq, size; parsed back', (t) => {
  const b = buildEcho({ dst: '10.1.2.3', src: '10.1.2.1', id: 0x1234, seq: 7, size: 56, df: true, ttl: 9 });
  t.is(b.length, 84);
  const p = parseIcmp(b)!;
  t.is(p.ip.df, true);
  t.is(p.ip.ttl, 9);
  t.is(p.ip.dst, '10.1.2.3');
  t.is(p.icmp.type, 8);
  t.is(p.icmp.id, 0x1234);
  t.is(p.icmp.seq, 7);
  t.true(p.icmp.checksumOk);
  t.true(p.ip.checksumOk);
});

test('an ICMP error quoting our echo is matched back to its id and seq', (t) => {
  const req = buildEcho({ dst: '10.1.2.3', src: '10.1.2.1', id: 0xbeef, seq: 2, size: 56, df: true, ttl: 64 });
  // frag-needed from a router: IPv4 + ICMP 3/4 (next-hop 1400) + quoted IP header + 8 bytes
  const quoted = req.subarray(0, 28);
  const icmp = Buffer.alloc(8 + quoted.length);
  icmp[0] = 3;
  icmp[1] = 4;
  icmp.writeUInt16BE(1400, 6);
  quoted.copy(icmp, 8);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + icmp.length, 2);
  ip[8] = 64;
  ip[9] = 1;
  Buffer.from([10, 1, 2, 254]).copy(ip, 12);
  Buffer.from([10, 1, 2, 1]).copy(ip, 16);
  const p = parseIcmp(Buffer.concat([ip, icmp]))!;
  t.is(p.icmp.type, 3);
  t.is(p.icmp.nextHopMtu, 1400);
  t.deepEqual(p.quoted, { dst: '10.1.2.3', protocol: 1, id: 0xbeef, seq: 2 });
});
