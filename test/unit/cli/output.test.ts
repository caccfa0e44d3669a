/** Output in JSON mode writes exactly one JSON document, whatever the command emitted. */
import test from 'ava';
import { StreamOutput } from '../../../src/cli/output.js';
import { StethError } from '../../../src/errors.js';
import type { CheckResult } from '../../../src/report/model.js';

const res = (ok: boolean, v: string): CheckResult => ({ command: 'x', ok, verdict: v, tables: [{ columns: ['a'], rows: [{ a: v }] }], data: { v } });

function out() {
  const o = { text: '', err: '', isTTY: false };
  const s = new StreamOutput({
    stdout: { write: (t: string) => ((o.text += t), true), isTTY: false },
    stderr: { write: (t: string) => ((o.err += t), true), isTTY: false },
    format: 'json',
    columns: [],
    env: {},
  });
  return { s, o };
}

test('one result: the result object', (t) => {
  const { s, o } = out();
  s.emit(res(true, 'a'));
  s.flush();
  t.deepEqual(JSON.parse(o.text), { ok: true, verdict: 'a', data: { v: 'a' }, tables: [{ columns: ['a'], rows: [{ a: 'a' }] }] });
  t.is(s.exitCode, 0);
});

test('two results and an error: one document {results, error}; exit code is the worst', (t) => {
  const { s, o } = out();
  s.emit(res(true, 'a'));
  s.emit(res(false, 'b'));
  s.error(new StethError('EAGENT', 'agent x unreachable', { hint: 'start it' }));
  s.flush();
  const j = JSON.parse(o.text) as { results: Array<{ verdict: string }>; error: { code: string; message: string; detail: { hint: string } } };
  t.deepEqual(j.results.map((r) => r.verdict), ['a', 'b']);
  t.is(j.error.code, 'EAGENT');
  t.is(j.error.detail.hint, 'start it');
  t.is(s.exitCode, 4);
  t.is(o.err, '');
});

test('only an error: {error:{code,message,detail}}', (t) => {
  const { s, o } = out();
  s.error(new StethError('ECONFIG', 'bad.conf:3:port: nope'));
  s.flush();
  t.deepEqual(JSON.parse(o.text), { error: { code: 'ECONFIG', message: 'bad.conf:3:port: nope', detail: null } });
  t.is(s.exitCode, 2);
});

test('progress: nothing when stderr is not a TTY; on a TTY a spinner appears after ~1 s and is cleared', async (t) => {
  const { s, o } = out();
  s.progress('quiet').stop();
  t.is(o.err, '');
  let err = '';
  const tty = new StreamOutput({
    stdout: { write: () => true, isTTY: true },
    stderr: { write: (x: string) => ((err += x), true), isTTY: true },
    format: 'table',
    columns: [],
    env: {},
  });
  const p = tty.progress('asking agents');
  await new Promise((r) => setTimeout(r, 1300));
  p.stop();
  t.regex(err, /asking agents/);
  t.true(err.endsWith('\r\x1b[2K'));
});
