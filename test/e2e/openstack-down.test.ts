/**
 * `lab down` after a failed `lab up --openstack`: the plane is stopped part-way
 * (after rabbitmq is up: mariadb, epmd, rabbit, both OVS pairs, the relay are
 * running) and left in place as a crashed `up` would leave it; `labDown` (the
 * lab's entry point, which hands an openstack state to its own teardown) must
 * then leave no namespace, no process naming the lab dir, no root veth, no dir.
 * And an `up` that fails by itself (here right after its namespaces and relay) removes what it built.
 */
import anyTest, { type TestFn } from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StethError } from '../../src/errors.js';
import { run } from '../../src/host/exec.js';
import { labDown } from '../../src/lab/index.js';
import { ensurePackages, missingPackages, openstackUp, readOpenstackState } from '../../src/lab/openstack/index.js';
import { pidsWithMarker } from '../../src/lab/openstack/procs.js';
import { DEFAULT_BASE_DIR } from '../../src/lab/spec.js';

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, OVS, daemons)';
  if (process.env.STETH_SKIP_OPENSTACK) return 'STETH_SKIP_OPENSTACK is set';
  try {
    if ((await missingPackages()).length > 0) await ensurePackages();
  } catch (e) {
    return `OpenStack packages cannot be installed here: ${(e as Error).message.slice(0, 120)}`;
  }
  return undefined;
}

const reason = await skipReason();
const test: TestFn = reason === undefined
  ? anyTest
  : (Object.assign((title: string) => anyTest.skip(`${title} [skipped: ${reason}]`, () => undefined), { serial: (title: string) => anyTest.skip(`${title} [skipped: ${reason}]`, () => undefined) }) as unknown as TestFn);

async function netnsNames(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

async function rootLinkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', name], { allowFail: true })).code === 0;
}

test.serial('lab down removes a plane whose up stopped half-way (daemons running, state partial)', async (t) => {
  t.timeout(15 * 60_000, 'part of a real control plane on a shared machine');
  const prefix = `od${randomBytes(2).toString('hex')}`;
  const dir = join(DEFAULT_BASE_DIR, prefix);
  try {
    const e = await t.throwsAsync(openstackUp({ prefix, install: false, failAt: 'rabbitmq', keepOnFailure: true }), { instanceOf: StethError });
    t.regex(e!.message, /after stage 'rabbitmq'/);
    const s = (await readOpenstackState(prefix))!;
    t.is(s.phase, 'partial');
    const names = s.services.map((x) => x.name);
    for (const n of ['relay', 'mariadb', 'epmd', 'rabbitmq']) t.true(names.includes(n), `${n} was started`);
    t.true(pidsWithMarker(`${dir}/`).length > 0, 'daemons naming the lab dir are running before down');
    t.true((await netnsNames()).includes(s.ctlNetns));

    const r = await labDown(prefix);
    t.true(r.removed);
    t.deepEqual(pidsWithMarker(`${dir}/`), []);
    const left = await netnsNames();
    t.deepEqual(s.netnsList.filter((ns) => left.includes(ns)), []);
    t.false(await rootLinkExists(s.root.iface));
    t.false(existsSync(dir));
    t.is((await labDown(prefix)).removed, false, 'a second down is a no-op');
  } finally {
    await labDown(prefix).catch(() => undefined);
  }
});

test.serial('an up that fails by itself removes what it built', async (t) => {
  t.timeout(15 * 60_000, 'part of a real control plane on a shared machine');
  const prefix = `oe${randomBytes(2).toString('hex')}`;
  const dir = join(DEFAULT_BASE_DIR, prefix);
  try {
    await t.throwsAsync(openstackUp({ prefix, install: false, failAt: 'namespaces' }), { instanceOf: StethError });
    t.false(existsSync(dir));
    t.deepEqual(pidsWithMarker(`${dir}/`), []);
    const left = await netnsNames();
    t.deepEqual(left.filter((ns) => ns.startsWith(`${prefix}-`)), []);
    t.false(await rootLinkExists(`${prefix}-os`));
  } finally {
    await labDown(prefix).catch(() => undefined);
  }
});
