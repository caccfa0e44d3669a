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

// skipWith: a registered test becomes a skipped test with the reason in its title
let ranSkipped = false;
skipWith(test, 'demonstration reason')('skipWith never runs the implementation', () => {
  ranSkipped = true;
});
test.after('skipped implementation was not run', (t) => {
  t.false(ranSkipped);
});
