/**
 * `useLab(test, spec?)`: one lab per test file. Brings a lab up in `test.before`
 * with a unique prefix and takes it down in `test.after.always` (and, as a last
 * resort, when the process exits). Pass a test function gated with
 * `needsRoot(test)` (test/helpers/env.ts) so the file skips with a reason when not
 * root; `useLab` gates its own hooks the same way.
 *
 *   const test = needsRoot(anyTest);
 *   const lab = useLab(test);
 *   test('…', async (t) => { const s = lab.state; … run('ping', [...], { netns: s.ports[0].vmNetns }) });
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { TestFn } from 'ava';
import { labDown, labUp } from '../../src/lab/index.js';
import type { LabNetwork, LabNode, LabPort, LabSpec, LabState } from '../../src/lab/types.js';
import { needsRoot, needsTools } from '../helpers/env.js';

export const LAB_TOOLS = ['ovs-vsctl', 'ovs-vswitchd', 'ovsdb-server', 'dnsmasq', 'ethtool', 'tc'] as const;

export interface LabHandle {
  /** the lab's prefix (unique per test file) */
  readonly prefix: string;
  /** the LabState once `before` ran (throws before that or when the lab failed) */
  readonly state: LabState;
  /** the VLAN / VXLAN tenant network */
  network(type: 'vlan' | 'vxlan'): LabNetwork;
  node(name: string): LabNode;
  /** ports matching a filter, in spec order */
  ports(filter?: Partial<Pick<LabPort, 'node' | 'hybrid'>> & { network?: 'vlan' | 'vxlan' }): LabPort[];
}

export function newLabPrefix(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

export function useLab<C>(test: TestFn<C>, spec: Partial<LabSpec> = {}): LabHandle {
  const prefix = spec.prefix ?? newLabPrefix();
  const t = needsTools(needsRoot(test), LAB_TOOLS);
  let state: LabState | undefined;
  let failure: unknown;
  const indexUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'lab', 'index.js')).href;
  const lastResort = (): void => {
    if (state === undefined) return;
    spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(indexUrl)}); await m.labDown(${JSON.stringify(prefix)});`], { stdio: 'ignore', timeout: 20_000 });
  };
  t.before(async () => {
    process.once('exit', lastResort);
    try {
      state = await labUp({ ...spec, prefix });
    } catch (e) {
      failure = e;
      throw e;
    }
  });
  t.after.always(async () => {
    process.removeListener('exit', lastResort);
    await labDown(prefix);
    state = undefined;
  });
  const handle: LabHandle = {
    prefix,
    get state(): LabState {
      if (state === undefined) throw new Error(`lab ${prefix} is not up${failure ? `: ${(failure as Error).message}` : ''}`);
      return state;
    },
    network(type) {
      return handle.state.networks.find((n) => n.type === type)!;
    },
    node(name) {
      const n = handle.state.nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n;
    },
    ports(filter = {}) {
      const s = handle.state;
      return s.ports.filter(
        (p) =>
          (filter.node === undefined || p.node === filter.node) &&
          (filter.hybrid === undefined || p.hybrid === filter.hybrid) &&
          (filter.network === undefined || s.networks.find((n) => n.id === p.networkId)?.type === filter.network),
      );
    },
  };
  return handle;
}
