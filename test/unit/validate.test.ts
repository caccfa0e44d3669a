import test from 'ava';
import { StethError } from '../../src/errors.js';
import { assertIfName, assertVlanId, parseMac, parseVlanSet, parseCidr, assertNetnsName } from '../../src/validate.js';

const rejectsName = test.macro((t, name: unknown) => {
  const err = t.throws(() => assertIfName(name), { instanceOf: StethError });
  t.is(err?.code, 'EINVAL');
});
for (const bad of ['eth0;reboot', '../../x', 'a'.repeat(16), '', '-rf', 'eth 0', 'eth0\n', '$(id)', 7]) {
  test(`interface name ${JSON.stringify(bad)} is rejected`, rejectsName, bad);
}

test('interface names the kernel allows are accepted', (t) => {
  for (const ok of ['eth0', 'br-int', 'qvo1a2b3c4d-5e', 'a'.repeat(15), 'bond0.100', 'veth@x']) t.is(assertIfName(ok), ok);
});

test('namespace names: qdhcp- names pass, traversal fails', (t) => {
  t.is(assertNetnsName('qdhcp-2f4c1f5e-7a2e-4a8e-9b8e-0c1d2e3f4a5b'), 'qdhcp-2f4c1f5e-7a2e-4a8e-9b8e-0c1d2e3f4a5b');
  t.throws(() => assertNetnsName('../etc'), { instanceOf: StethError });
});

test('VLAN ids: 1..4094 only; 0 only when asked', (t) => {
  t.is(assertVlanId(1), 1);
  t.is(assertVlanId('4094'), 4094);
  t.is(assertVlanId(0, { allowZero: true }), 0);
  for (const bad of [0, 4095, 4096, -1, 1.5, '12a']) t.throws(() => assertVlanId(bad), { instanceOf: StethError });
  t.regex(t.throws<StethError>(() => assertVlanId(4095))?.hint ?? '', /reserved/);
});

test('VLAN sets expand, sort and de-duplicate', (t) => {
  t.deepEqual(parseVlanSet('300,100-103,101'), [100, 101, 102, 103, 300]);
  t.throws(() => parseVlanSet('200-100'));
  t.throws(() => parseVlanSet('1-4095'));
});

test('MACs normalise to lower-case colon form; garbage is rejected', (t) => {
  t.is(parseMac('FA-16-3E-00-00-01'), 'fa:16:3e:00:00:01');
  t.is(parseMac('fa16.3e00.0001'), 'fa:16:3e:00:00:01');
  for (const bad of ['fa:16:3e:00:00', 'zz:16:3e:00:00:01', 'fa:16:3e:00:00:01:02']) t.throws(() => parseMac(bad), { instanceOf: StethError });
});

test('CIDRs parse and reject bad prefixes', (t) => {
  t.deepEqual(parseCidr('10.0.0.1/24'), { address: '10.0.0.1', prefix: 24, text: '10.0.0.1/24' });
  t.throws(() => parseCidr('10.0.0.1/33'));
  t.throws(() => parseCidr('10.0.0.256/24'));
});
