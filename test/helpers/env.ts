/**
 * Test environment helpers for every engineer's tests.
 *
 * - `needsRoot(test)` → a test function that registers tests normally when we are
 *   root, and otherwise registers them as skipped with the reason in the title
 *   ("[skipped: needs root]"); hooks (before/after/...) become skipped hooks so
 *   they never try to create namespaces. `needsTools(test, ['tshark'])` does the
 *   same for missing host tools; both compose: `needsTools(needsRoot(test), [...])`.
 * - `vethPair(t, opts)` → two fresh network namespaces joined by one veth pair,
 *   unique names, both ends up, IPv6 off (no router solicitations / MLD noise in
 *   captures). Deleted in `t.teardown` and, as a last resort, at process exit.
 *   `createVethPair(opts)` is the same without ava (call `destroy()` yourself).
 * - `makeNetns(t, label)` → one fresh namespace, same cleanup guarantees.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestFn } from 'ava';
import { run } from '../../src/host/exec.js';

export const isRoot: boolean = process.getuid?.() === 0;

/** Why environment-dependent tests are skipped here, or undefined when they can run. */
export function rootSkipReason(): string | undefined {
  if (!isRoot) return 'needs root (network namespaces, CAP_NET_RAW)';
  return undefined;
}

/** Is an executable with this name on PATH (or in /usr/sbin, /sbin)? */
export function hasTool(name: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

const HOOKS = new Set(['before', 'after', 'beforeEach', 'afterEach']);

/** Wrap an ava TestFn so that every test (and hook) registered through it is skipped,
 *  with `[skipped: REASON]` appended to the title; undefined reason = the original. */
export function skipWith<C>(test: TestFn<C>, reason: string | undefined): TestFn<C> {
  if (reason === undefined) return test;
  const suffix = ` [skipped: ${reason}]`;
  const retitle = (args: unknown[]): unknown[] =>
    typeof args[0] === 'string' ? [`${args[0]}${suffix}`, ...args.slice(1)] : args;
  const wrapTestLike = (fn: any): any =>
    new Proxy(fn, {
      apply(target, _this, args: unknown[]) {
        return target.skip(...retitle(args));
      },
      get(target, prop, receiver) {
        if (prop === 'serial') return wrapTestLike(target.serial);
        if (prop === 'only') return wrapTestLike(target); // never "only" a skipped test
        if (prop === 'failing') return wrapTestLike(target);
        if (typeof prop === 'string' && HOOKS.has(prop)) return wrapHook(target[prop]);
        return Reflect.get(target, prop, receiver);
      },
    });
  const wrapHook = (hook: any): any =>
    new Proxy(hook, {
      apply(target, _this, args: unknown[]) {
        return target.skip(...args);
      },
      get(target, prop, receiver) {
        if (prop === 'always') return wrapHook(target.always);
        return Reflect.get(target, prop, receiver);
      },
    });
  return wrapTestLike(test) as TestFn<C>;
}

/** Tests that need root: skipped with a stated reason otherwise. */
export function needsRoot<C>(test: TestFn<C>): TestFn<C> {
  return skipWith(test, rootSkipReason());
}

/** Tests that need host tools (e.g. ['tshark', 'tcpreplay']). */
export function needsTools<C>(test: TestFn<C>, tools: readonly string[]): TestFn<C> {
  const missing = tools.filter((t) => !hasTool(t));
  return skipWith(test, missing.length > 0 ? `needs ${missing.join(', ')}` : undefined);
}

/** Something with a teardown hook: an ava ExecutionContext (tests and hooks). */
export interface HasTeardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** Short random lowercase hex suffix (default 6 chars). */
export function randomSuffix(chars = 6): string {
  return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
}

// Last-resort cleanup: namespaces still alive when the worker exits are deleted
// synchronously (ip netns del removes the veths inside them too).
const liveNamespaces = new Set<string>();
let exitHooked = false;
function trackNetns(name: string): void {
  liveNamespaces.add(name);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const ns of liveNamespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });
}

async function delNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name], { allowFail: true });
  liveNamespaces.delete(name);
}

export interface Netns {
  readonly name: string;
  destroy(): Promise<void>;
}

/** Create a fresh namespace named `${label}-${suffix}` with lo up and IPv6 off. */
export async function createNetns(label = 'sttest'): Promise<Netns> {
  const name = `${label}-${randomSuffix()}`;
  await run('ip', ['netns', 'add', name]);
  trackNetns(name);
  try {
    await run('ip', ['link', 'set', 'lo', 'up'], { netns: name });
    await run('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], {
      netns: name,
      allowFail: true,
    });
  } catch (err) {
    await delNetns(name);
    throw err;
  }
  let done = false;
  return {
    name,
    async destroy() {
      if (done) return;
      done = true;
      await delNetns(name);
    },
  };
}

export async function makeNetns(t: HasTeardown, label = 'sttest'): Promise<Netns> {
  const ns = await createNetns(label);
  t.teardown(() => ns.destroy());
  return ns;
}

export interface VethEnd {
  /** namespace the end lives in */
  readonly netns: string;
  /** interface name inside that namespace */
  readonly iface: string;
  readonly mac: string;
  /** the 10.x address given to it when `addresses` was asked for */
  readonly ip?: string;
}

export interface VethPair {
  readonly a: VethEnd;
  readonly b: VethEnd;
  destroy(): Promise<void>;
}

export interface VethPairOptions {
  /** namespace/iface label, e.g. your area ('cap', 'dhcp'); letters/digits, ≤ 6 chars used in iface names */
  label?: string;
  /** link MTU on both ends (default: the kernel's 1500) */
  mtu?: number;
  /** leave both ends DOWN (default: up) */
  down?: boolean;
  /** give a: 10.X.Y.1/24 and b: 10.X.Y.2/24 (random X.Y) */
  addresses?: boolean;
}

async function readMac(netns: string, iface: string): Promise<string> {
  // `ip -o link show` (not -json): one line, "link/ether MAC" in it
  for (let attempt = 0; ; attempt++) {
    const r = await run('ip', ['-o', 'link', 'show', 'dev', iface], { netns });
    const m = /link\/ether ([0-9a-f:]{17})/.exec(r.stdout);
    if (m) return m[1]!;
    if (attempt >= 3) throw new Error(`no MAC for ${iface} in ${netns}: ${r.stdout.slice(0, 200)}`);
  }
}

/** Two namespaces joined by a veth: a.iface in a.netns <-> b.iface in b.netns. */
export async function createVethPair(opts: VethPairOptions = {}): Promise<VethPair> {
  const label = (opts.label ?? 'st').replace(/[^a-z0-9]/gi, '').slice(0, 6) || 'st';
  const sfx = randomSuffix();
  const nsA = await createNetns(`${label}-a`);
  let nsB: Netns | undefined;
  try {
    nsB = await createNetns(`${label}-b`);
    const ifA = `${label}${sfx}a`; // ≤ 6 + 6 + 1 = 13 < 16
    const ifB = `${label}${sfx}b`;
    await run('ip', ['link', 'add', ifA, 'netns', nsA.name, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB.name]);
    let ipA: string | undefined;
    let ipB: string | undefined;
    if (opts.addresses) {
      const x = 1 + Math.floor(Math.random() * 250);
      const y = 1 + Math.floor(Math.random() * 250);
      ipA = `10.${x}.${y}.1`;
      ipB = `10.${x}.${y}.2`;
    }
    for (const [ns, ifc, ip] of [
      [nsA.name, ifA, ipA],
      [nsB.name, ifB, ipB],
    ] as const) {
      if (opts.mtu !== undefined) await run('ip', ['link', 'set', 'dev', ifc, 'mtu', String(opts.mtu)], { netns: ns });
      if (ip !== undefined) await run('ip', ['addr', 'add', `${ip}/24`, 'dev', ifc], { netns: ns });
      if (!opts.down) await run('ip', ['link', 'set', 'dev', ifc, 'up'], { netns: ns });
    }
    const a: VethEnd = { netns: nsA.name, iface: ifA, mac: await readMac(nsA.name, ifA), ...(ipA ? { ip: ipA } : {}) };
    const b: VethEnd = { netns: nsB.name, iface: ifB, mac: await readMac(nsB.name, ifB), ...(ipB ? { ip: ipB } : {}) };
    const bNs = nsB;
    return {
      a,
      b,
      async destroy() {
        await nsA.destroy();
        await bNs.destroy();
      },
    };
  } catch (err) {
    await nsA.destroy();
    await nsB?.destroy();
    throw err;
  }
}

/** createVethPair with cleanup in t.teardown (works in tests and in before hooks). */
export async function vethPair(t: HasTeardown, opts: VethPairOptions = {}): Promise<VethPair> {
  const pair = await createVethPair(opts);
  t.teardown(() => pair.destroy());
  return pair;
}
