import test from 'ava';
import { run } from '../../../src/host/exec.js';
import { createVethPair, needsRoot, skipWith, vethPair } from '../../helpers/env.js';

const rootTest = needsRoot(test);

rootTest('vethPair joins two fresh namespaces and teardown removes them', async (t) => {
  const pair = await createVethPair({ label: 'caph', addresses: true });
  try {
    t.not(pair.a.netns, pair.b.netns);
    const ns = (await run('ip', ['netns', 'list'])).stdout;
    t.true(ns.includes(pair.a.netns) && ns.includes(pair.b.netns));
    const link = JSON.parse((await run('ip', ['-json', 'link', 'show', 'dev', pair.a.iface], { netns: pair.a.netns })).stdout) as Array<{ operstate: string; flags: string[] }>;
    t.true(link[0]!.flags.includes('UP'));
    // the pair really is joined: a ping from a reaches b
    await run('ping', ['-c', '1', '-W', '2', pair.b.ip!], { netns: pair.a.netns });
  } finally {
    await pair.destroy();
  }
  const after = (await run('ip', ['netns', 'list'])).stdout;
  t.false(after.includes(pair.a.netns));
  t.false(after.includes(pair.b.netns));
});

let hookPair: { a: { netns: string } } | undefined;
rootTest.serial('vethPair registers its cleanup with t.teardown', async (t) => {
  hookPair = await vethPair(t, { label: 'caph' });
  t.true((await run('ip', ['netns', 'list'])).stdout.includes(hookPair.a.netns));
});
rootTest.serial('… and the namespaces are gone after that test', async (t) => {
  t.truthy(hookPair);
  t.false((await run('ip', ['netns', 'list'])).stdout.includes(hookPair!.a.netns));
});

// skipWith: a registered test becomes a skipped test with the reason in its title. Checked
// against a recording stand-in for ava's TestFn, so the suite carries no skipped test.
test('skipWith registers tests and hooks as skipped, reason in the title, implementation never run; no reason = unchanged', (t) => {
  const calls: string[] = [];
  const rec = (kind: string) => {
    const f = ((...a: unknown[]) => void calls.push(`${kind}:${String(a[0])}`)) as unknown as Record<string, unknown>;
    f.skip = (...a: unknown[]) => void calls.push(`${kind}.skip:${typeof a[0] === 'string' ? a[0] : 'fn'}`);
    return f;
  };
  const fake = rec('test');
  fake.serial = rec('serial');
  fake.before = rec('before');
  let ran = false;
  const impl = (): void => {
    ran = true;
  };
  const skipped = skipWith(fake as unknown as typeof test, 'no root');
  skipped('a', impl);
  skipped.serial('b', impl);
  skipped.before(impl);
  t.deepEqual(calls, ['test.skip:a [skipped: no root]', 'serial.skip:b [skipped: no root]', 'before.skip:fn']);
  t.false(ran);
  t.is(skipWith(fake as unknown as typeof test, undefined), fake as unknown as typeof test);
});
