/**
 * `steth lab up && steth lab status` as an operator runs it (the built binary,
 * -f json), then fault / heal / down through the CLI, and the generated config
 * drives `print-agents-info` against the lab's agents from the root namespace.
 */
import anyTest from 'ava';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/host/exec.js';
import { labDown } from '../../src/lab/index.js';
import { agentScript } from '../../src/lab/up.js';
import { needsRoot, needsTools } from '../helpers/env.js';
import { LAB_TOOLS, newLabPrefix } from '../lab/fixture.js';

const test = needsTools(needsRoot(anyTest), LAB_TOOLS);
const steth = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth.js');

async function cli(args: string[]): Promise<{ code: number; json: any; stderr: string; stdout: string }> {
  const r = await run(process.execPath, [steth, '-f', 'json', ...args], { allowFail: true, timeoutMs: 120_000 });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.code, json, stderr: r.stderr, stdout: r.stdout };
}

test.serial('lab up, status, fault, heal and down through the CLI', async (t) => {
  const prefix = newLabPrefix();
  try {
    const up = await cli(['lab', 'up', '--prefix', prefix]);
    t.is(up.code, 0, up.stderr);
    t.true(up.json.ok);
    t.is(up.json.data.prefix, prefix);
    t.is(up.json.data.token, undefined, 'the token is not printed');
    const configPath: string = up.json.data.configPath;
    t.true(existsSync(configPath));

    const st = await cli(['lab', 'status', '--prefix', prefix]);
    t.is(st.code, 0, st.stderr);
    t.is(st.json.data.phase, 'up');
    t.deepEqual(st.json.data.nodes.map((n: { name: string }) => n.name), ['network-1', 'compute-1', 'compute-2']);
    t.true(st.json.data.nodes.every((n: { ovs: boolean }) => n.ovs));
    t.true(existsSync(agentScript()), 'tests run from dist/, where the agent is built');
    t.true(st.json.data.nodes.every((n: { agent: string }) => n.agent === 'alive'));
    const info = await cli(['--config', configPath, 'print-agents-info']);
    t.is(info.code, 0, info.stderr);
    // ports: every VM port of the lab, with its node, network type, MAC, fixed IP and tap present
    const lab = (await import('../../src/lab/index.js')).loadLab;
    const state = (await lab(prefix))!;
    t.deepEqual(
      st.json.data.ports.map((p: { id: string; node: string; network: string; mac: string; ip: string; hybrid: boolean; present: boolean }) => [p.id, p.node, p.mac, p.ip, p.hybrid, p.present]),
      state.ports.map((p) => [p.id, p.node, p.mac, p.ip, p.hybrid, true]),
    );
    t.deepEqual([...new Set(st.json.data.ports.map((p: { network: string }) => p.network))].sort(), ['vlan', 'vxlan']);
    t.true(st.json.data.networks.every((n: { dnsmasq: boolean }) => n.dnsmasq));

    const f = await cli(['lab', 'fault', 'dnsmasq-stopped', 'network=vlan', '--prefix', prefix]);
    t.is(f.code, 0, f.stderr);
    const st2 = await cli(['lab', 'status', '--prefix', prefix]);
    t.is(st2.code, 1, `status reports the broken lab as a fault\n${st2.stdout}\n${st2.stderr}`);
    t.truthy(st2.json, `${st2.stdout}\n${st2.stderr}`);
    t.deepEqual(st2.json.data.faults.map((x: { name: string }) => x.name), ['dnsmasq-stopped']);
    t.false(st2.json.data.networks.find((n: { type: string }) => n.type === 'vlan').dnsmasq);

    const bad = await cli(['lab', 'fault', 'no-such-fault', '--prefix', prefix]);
    t.is(bad.code, 2);

    const h = await cli(['lab', 'heal', '--prefix', prefix]);
    t.is(h.code, 0, h.stderr);
    const st3 = await cli(['lab', 'status', '--prefix', prefix]);
    t.is(st3.code, 0);
    t.deepEqual(st3.json.data.faults, []);

    const d = await cli(['lab', 'down', '--prefix', prefix]);
    t.is(d.code, 0);
    t.true(d.json.data[0].removed);
    const d2 = await cli(['lab', 'down', '--prefix', prefix]);
    t.is(d2.code, 0);
    t.false(d2.json.data[0].removed);
    const gone = await cli(['lab', 'status', '--prefix', prefix]);
    t.not(gone.code, 0);
  } finally {
    await labDown(prefix).catch(() => undefined);
  }
});
