import test from 'ava';
import { parseBandwidth, parseSize, parseLegacyBandwidth, formatBandwidth, formatBytes } from '../../../probes/iperf/units.js';
import { StethError } from '../../../src/errors.js';

const good: [string, number][] = [
  ['9G', 9e9],
  ['9g', 9e9],
  ['9.5G', 9.5e9],
  ['900M', 9e8],
  ['100k', 1e5],
  ['1T', 1e12],
  ['10000000', 1e7],
  ['9Gbit/s', 9e9],
  ['9Gbps', 9e9],
  ['9 Gbit', 9e9],
  [' 1M ', 1e6],
];
for (const [s, n] of good) test(`parseBandwidth('${s}') = ${n}`, (t) => t.is(parseBandwidth(s), n));

for (const s of ['10X', '', 'G', '-1', '0', '1e9', '9GG', '9 G X', '0x10', 'NaN', '9GB/s', '1,5G']) {
  test(`parseBandwidth('${s}') throws EINVAL naming the input`, (t) => {
    const e = t.throws(() => parseBandwidth(s, '--min'));
    t.true(e instanceof StethError);
    t.is((e as StethError).code, 'EINVAL');
    t.true(e!.message.includes('--min'));
  });
}

test('parseSize: binary multipliers for window sizes', (t) => {
  t.is(parseSize('256K'), 262144);
  t.is(parseSize('4M'), 4 * 1024 * 1024);
  t.is(parseSize('1400'), 1400);
  t.throws(() => parseSize('10X'), { instanceOf: StethError });
  t.throws(() => parseSize('0'), { instanceOf: StethError });
});

test('legacy --client_bandwidth: a bare number is Mbit/s as in the original', (t) => {
  t.is(parseLegacyBandwidth('100'), 1e8);
  t.is(parseLegacyBandwidth('2G'), 2e9);
  t.throws(() => parseLegacyBandwidth('10X'), { instanceOf: StethError });
});

test('formatBandwidth / formatBytes', (t) => {
  t.is(formatBandwidth(9341448308), '9.34 Gbit/s');
  t.is(formatBandwidth(19300573), '19.3 Mbit/s');
  t.is(formatBandwidth(512), '512 bit/s');
  t.is(formatBandwidth(null), '-');
  t.is(formatBytes(1167851520), '1.09 GiB');
  t.is(formatBytes(100), '100 B');
});
