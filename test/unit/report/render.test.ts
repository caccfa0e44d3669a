/** Renderers of the one result model. */
import test from 'ava';
import { renderResult, selectColumns, csvField } from '../../../src/report/render.js';
import type { CheckResult } from '../../../src/report/model.js';

const r: CheckResult = {
  command: 'x',
  ok: false,
  verdict: 'one port missing',
  tables: [
    { title: 'ports', columns: ['port', 'present', 'tag'], rows: [{ port: 'qvo1', present: true, tag: 5 }, { port: 'eth\t3', present: false, tag: null }] },
    { columns: ['a'], rows: [{ a: 'second' }] },
  ],
  data: { n: 10n as unknown as number },
};

test('piped table: TSV rows, tabs in cells replaced, verdict to stderr, no header', (t) => {
  const o = renderResult(r, { format: 'table', tty: false, color: false });
  t.is(o.stdout, 'qvo1\tyes\t5\neth 3\tno\t\nsecond\n');
  t.is(o.stderr, 'one port missing\n');
});

test('TTY table: upper-case header, aligned columns, verdict last, colour only when asked', (t) => {
  const plain = renderResult(r, { format: 'table', tty: true, color: false });
  t.regex(plain.stdout, /^ports\nPORT\s+PRESENT\s+TAG\nqvo1\s+yes\s+5\n/);
  t.true(plain.stdout.trimEnd().endsWith('one port missing'));
  t.false(plain.stdout.includes('\x1b'));
  t.true(renderResult(r, { format: 'table', tty: true, color: true }).stdout.includes('\x1b[31mone port missing'));
});

test('json: {ok, verdict, data, tables}; bigint as string', (t) => {
  const j = JSON.parse(renderResult(r, { format: 'json', tty: false, color: false }).stdout) as { ok: boolean; verdict: string; data: { n: string }; tables: unknown[] };
  t.false(j.ok);
  t.is(j.verdict, 'one port missing');
  t.is(j.data.n, '10');
  t.is(j.tables.length, 2);
});

test('csv and value: first table only; RFC 4180 quoting', (t) => {
  t.is(renderResult(r, { format: 'csv', tty: false, color: false }).stdout, 'port,present,tag\r\nqvo1,yes,5\r\neth\t3,no,\r\n');
  t.is(renderResult(r, { format: 'value', tty: false, color: false, columns: ['tag', 'port'] }).stdout, '5 qvo1\n eth 3\n');
  t.is(csvField('a,"b"'), '"a,""b"""');
  t.is(csvField(' x'), '" x"');
});

test('-c on a multi-table result keeps the tables that have the columns', (t) => {
  const o = renderResult(r, { format: 'table', tty: false, color: false, columns: ['a'] });
  t.is(o.stdout, 'second\n');
  t.throws(() => renderResult(r, { format: 'table', tty: false, color: false, columns: ['zzz'] }), { message: /no column 'zzz'/ });
});

test('-c: case-insensitive, in the requested order; unknown column names the known ones', (t) => {
  t.deepEqual(selectColumns(r.tables[0]!, ['TAG', 'Port']).columns, ['tag', 'port']);
  const e = t.throws(() => selectColumns(r.tables[0]!, ['vlan']));
  t.regex(e!.message, /no column 'vlan' in ports/);
});
