/**
 * `lab down` leaves nothing: namespaces, root-namespace links, processes and the
 * lab dir, compared before/after (other engineers' labs may come and go meanwhile,
 * so only what differs AND belongs to this lab counts); after a crashed up too.
 */
import anyTest from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/host/exec.js';
import { labDown, labUp, loadLab } from '../../src/lab/index.js';
import type { LabState } from '../../src/lab/types.js';
import { needsRoot, needsTools } from '../helpers/env.js';
import { LAB_TOOLS, newLabPrefix } from '../lab/fixture.js';

const test = needsTools(needsRoot(anyTest), LAB_TOOLS);

interface Snapshot {
  netns: Set<string>;
  links: Set<string>;
  procs: Map<number, string>;
}

async function snapshot(): Promise<Snapshot> {
  const ns = await run('ip', ['netns', 'list'], { allowFail: true });
  const links = await run('ip', ['-o', 'link', 'show'], { allowFail: true });
  const procs = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      procs.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      /* exited */
    }
  }
  return {
    netns: new Set(ns.stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean)),
    links: new Set(links.stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined)),
    procs,
  };
}

/** What is in `after` but not `before` and belongs to lab `s`. */
function leftovers(before: Snapshot, after: Snapshot, s: LabState): string[] {
  const out: string[] = [];
  for (const n of after.netns) if (!before.netns.has(n) && (n.startsWith(`${s.prefix}-`) || s.netnsList.includes(n))) out.push(`netns ${n}`);
  for (const l of after.links) if (!before.links.has(l) && l.startsWith(s.prefix)) out.push(`link ${l}`);
  for (const [pid, cmd] of after.procs) if (!before.procs.has(pid) && cmd.includes(s.dir)) out.push(`process ${pid} ${cmd.slice(0, 80)}`);
  if (existsSync(s.dir)) out.push(`dir ${s.dir}`);
  return out;
}

test.serial('down removes every namespace, link, process and file up created; a second down is a no-op', async (t) => {
  const before = await snapshot();
  const prefix = newLabPrefix();
  let s: LabState | undefined;
  try {
    s = await labUp({ prefix });
    const during = await snapshot();
    // the lab really was there (so "nothing left" below means something)
    t.true(s.netnsList.every((n) => during.netns.has(n)));
    t.true(during.links.has(s.root.iface));
    t.true([...during.procs.values()].filter((c) => c.includes(s!.dir)).length >= 8, 'ovsdb-server + ovs-vswitchd x4, dnsmasq x2');
    const r = await labDown(prefix);
    t.true(r.removed);
    const after = await snapshot();
    t.deepEqual(leftovers(before, after, s), []);
    t.is(await loadLab(prefix), undefined);
    const again = await labDown(prefix);
    t.false(again.removed);
  } finally {
    await labDown(prefix).catch(() => undefined);
  }
});

test.serial('down cleans up after an up that crashed half-way (killed -9)', async (t) => {
  const before = await snapshot();
  const prefix = newLabPrefix();
  const indexUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'lab', 'index.js')).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(indexUrl)}); await m.labUp({ prefix: ${JSON.stringify(prefix)}, agents: false });`], { stdio: 'ignore' });
  try {
    // wait until the OVS daemons of some node are starting, then crash the up
    const deadline = Date.now() + 60_000;
    let s: LabState | undefined;
    while (Date.now() < deadline) {
      s = await loadLab(prefix).catch(() => undefined);
      if (s && existsSync(join(s.dir, 'network-1', 'ovsdb-server.pid'))) break;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    s = await loadLab(prefix);
    t.truthy(s, 'state file written before anything was created');
    t.is(s!.phase, 'partial');
    const r = await labDown(prefix);
    t.true(r.removed);
    t.deepEqual(leftovers(before, await snapshot(), s!), []);
  } finally {
    child.kill('SIGKILL');
    await labDown(prefix).catch(() => undefined);
  }
});
