/**
 * The filter builder: canonical values only, no spliced text, typed errors, and the
 * VLAN-aware shape (per-depth absolute forms; `vlan` only at the end). That the
 * generated text matches the intended frames on a live capture is in
 * test/e2e/capture.test.ts (filter table); here it is also compiled by libpcap's own
 * parser when tcpdump is available.
 */
import test from 'ava';
import { buildFilter, PcapError, type FilterCond } from '../../../src/capture/index.js';
import { run } from '../../../src/host/exec.js';
import { hasTool } from '../../helpers/env.js';

test('an empty condition matches everything', (t) => {
  t.is(buildFilter({}), '');
});

test('values are printed in canonical form only', (t) => {
  const f = buildFilter({ srcMac: 'AA-BB-CC-DD-EE-FF', ip: '010.001.002.003' as string, udpPort: 67 });
  t.true(f.includes('ether src aa:bb:cc:dd:ee:ff'));
  t.true(f.includes('0x0a010203'), 'IPv4 printed as a number');
  t.false(f.includes('010.001'));
});

const injections: Array<[string, FilterCond]> = [
  ['MAC with an expression appended', { srcMac: '00:11:22:33:44:55 or tcp' }],
  ['IP with an expression appended', { ip: '10.0.0.1 or 1=1' }],
  ['port as a string expression', { udpPort: '67 or tcp' as never }],
  ['etherType as text', { etherType: '0x0800) or (1' as never }],
  ['probe id with text', { probeId: "0123456789abcdef' or '" }],
  ['unknown key', { host: 'x' } as never],
  ['vlan id out of range', { vlan: 4095 }],
  ['vlan list too long', { vlan: [1, 2, 3] }],
  ['vlan nested under or', { or: [{ vlan: 5 } as FilterCond] }],
  ['negative port', { udpPort: -1 }],
  ['fractional xid', { dhcpXid: 1.5 }],
  ['tagged not boolean', { tagged: 'yes' as never }],
  ['vlan with tagged false', { vlan: 10, tagged: false }],
  ['empty or', { or: [] }],
  ['not of nothing', { not: {} }],
  ['etherType below 0x600', { etherType: 0x100 }],
];

for (const [name, cond] of injections) {
  test(`rejected with PcapError EINVAL: ${name}`, (t) => {
    const err = t.throws(() => buildFilter(cond), { instanceOf: PcapError });
    t.is(err?.code, 'EINVAL');
  });
}

test('every condition holds at tag depth 0, 1 and 2, each depth guarded by TPID checks', (t) => {
  const f = buildFilter({ udpPort: 67 });
  // the EtherType is looked for at 12, 16 and 20
  for (const off of [12, 16, 20]) t.true(f.includes(`ether[${off}:2] = 0x0800`), `IPv4 at ${off}`);
  t.true(f.includes('not ((ether[12:2] = 0x8100) or (ether[12:2] = 0x88a8) or (ether[12:2] = 0x9100))'));
  t.false(/\bvlan\b/.test(f), 'no vlan keyword without a vlan condition');
});

test('vlan conditions are appended last (libpcap moves offsets after `vlan`)', (t) => {
  t.regex(buildFilter({ vlan: 100, udpPort: 67 }), /\) and \(vlan 100\)$/);
  t.regex(buildFilter({ tagged: false, arp: true }), /\(not vlan\)$/);
  t.regex(buildFilter({ tagged: true }), /^vlan$/);
  const qinq = buildFilter({ vlan: [200, 300] });
  t.true(qinq.startsWith('(vlan 200) and'));
  t.true(qinq.includes('ether[14:2] & 0x0fff = 300') && qinq.includes('ether[18:2] & 0x0fff = 300'));
});

test('probe ids match both the EtherType 0x88B5 and the UDP 5899 forms', (t) => {
  const f = buildFilter({ probeId: '0123456789ABCDEF' });
  t.true(f.includes('= 0x88b5'));
  t.true(f.includes('= 0x73544831'), 'magic sTH1');
  t.true(f.includes('= 0x01234567') && f.includes('= 0x89abcdef'));
  t.true(f.includes('= 5899'));
});

test('and / or / not compose', (t) => {
  const f = buildFilter({ or: [{ dhcpXid: 1 }, { arp: true, not: { ip: '10.0.0.1' } }] });
  t.true(f.includes(' or '));
  t.true(f.includes('not ('));
  t.true(f.includes('= 0x00000001'));
});

const compiles = hasTool('tcpdump') && process.getuid?.() === 0 ? test : test.skip;
const samples: FilterCond[] = [
  { udpPort: 67 },
  { vlan: 100, dhcpXid: 0xdeadbeef, srcMac: '02:00:00:00:00:01' },
  { vlan: [1, 2], probeId: '0123456789abcdef' },
  { or: [{ arp: true, ip: '10.0.0.1' }, { ipProto: 'icmp', not: { dstIp: '10.0.0.2' } }], tagged: false },
  { etherType: 0x88b5, tagged: true },
];
for (const [i, cond] of samples.entries()) {
  compiles(`libpcap compiles built filter #${i} (tcpdump -d)${hasTool('tcpdump') ? '' : ' [skipped: needs tcpdump]'}`, async (t) => {
    const r = await run('tcpdump', ['-d', '-y', 'EN10MB', '-i', 'lo', buildFilter(cond)], { allowFail: true });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /ret/);
  });
}
