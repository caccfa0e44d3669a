/**
 * The original core commands against the embedded lab's agents (one per
 * emulated node, started by the lab with the config it generates): the lab's
 * steth.conf parses, every agent answers, interface reports and OVS facts
 * match what the lab built.
 */
import anyTest from 'ava';
import { runCli } from '../../src/cli/run.js';
import { useLab } from '../lab/fixture.js';
import { needsRoot } from '../helpers/env.js';

const test = needsRoot(anyTest);
const lab = useLab(test);

async function steth(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const { code } = await runCli(['--config', lab.state.configPath, ...args], {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    env: {},
  });
  return { code, out, err };
}

test.serial('print-agents-info: every lab node answers agent.hello with its node name', async (t) => {
  const r = await steth(['-f', 'json', 'print-agents-info']);
  t.is(r.code, 0, r.out + r.err);
  const j = JSON.parse(r.out) as { data: { agents: Array<{ name: string; reachable: boolean; node: string; role: string }> } };
  t.deepEqual(
    j.data.agents.map((a) => [a.name, a.reachable, a.node]).sort(),
    lab.state.nodes.map((n) => [n.name, true, n.name]).sort(),
  );
});

test.serial('get-interface: each node reports its net NIC up with the lab address', async (t) => {
  for (const n of lab.state.nodes) {
    const r = await steth(['-f', 'json', 'get-interface', n.name, n.nics.net]);
    t.is(r.code, 0, r.out + r.err);
    const d = (JSON.parse(r.out) as { data: { name: string; adminUp: boolean; mtu: number } }).data;
    t.is(d.name, n.nics.net);
    t.true(d.adminUp, `${n.name} ${n.nics.net}`);
  }
});

test.serial('check-ports-on-br: the qvo ports of a node are on br-int with the local VLAN as tag; find-port locates a port', async (t) => {
  const hybrid = lab.state.ports.filter((p) => p.hybrid && p.devices.qvo);
  t.true(hybrid.length > 0);
  const p = hybrid[0]!;
  const net = lab.state.networks.find((n) => n.id === p.networkId)!;
  const r = await steth(['-f', 'json', 'check-ports-on-br', p.node, 'br-int', p.devices.qvo!]);
  t.is(r.code, 0, r.out + r.err);
  const row = (JSON.parse(r.out) as { data: { requested: Array<{ present: boolean; tag: number | null; iface_id: string }> } }).data.requested[0]!;
  t.true(row.present);
  t.is(row.tag, net.localVlan[p.node] ?? null);
  t.is(row.iface_id, p.id);
  const miss = await steth(['check-ports-on-br', p.node, 'br-int', 'qvonotthere']);
  t.is(miss.code, 1);
  const f = await steth(['-f', 'json', 'find-port', p.id]);
  t.is(f.code, 0, f.out + f.err);
  const rows = (JSON.parse(f.out) as { data: Array<{ agent: string; found: boolean | null }> }).data;
  t.deepEqual(rows.filter((x) => x.found).map((x) => x.agent), [p.node]);
});

test.serial('setup-link / teardown-link on a lab node: leased change visible through get-interface, then gone', async (t) => {
  const n = lab.state.nodes[0]!;
  const nic = n.nics.storage;
  const up = await steth(['setup-link', n.name, nic, '10.254.77.1/24', '--ttl', '120']);
  t.is(up.code, 0, up.err);
  const seen = JSON.parse((await steth(['-f', 'json', 'get-interface', n.name, nic])).out) as { data: { addresses: Array<{ address: string }> } };
  t.true(seen.data.addresses.some((a) => a.address === '10.254.77.1'));
  const down = await steth(['teardown-link', n.name, nic]);
  t.is(down.code, 0, down.err);
  const after = JSON.parse((await steth(['-f', 'json', 'get-interface', n.name, nic])).out) as { data: { addresses: Array<{ address: string }> } };
  t.false(after.data.addresses.some((a) => a.address === '10.254.77.1'));
});
