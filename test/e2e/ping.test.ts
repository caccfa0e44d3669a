/**
 * The native ping engine and the `ping` command.
 *
 * Part 1 (own namespaces, no lab): A — R — B with a real Linux router R whose
 * link to B has MTU 1400. The engine runs inside A (the agent's namespace path:
 * a child via `ip netns exec`), so ICMP errors come from a real kernel:
 * frag-needed with the next-hop MTU, time exceeded, network unreachable.
 * Part 2 (lab): icmp.ping through the agent, the original compat method `ping`
 * in its {code, message, data} envelope, and the CLI.
 */
import anyTest from 'ava';
import { needsRoot } from '../helpers/env.js';
import { createNetns, type Netns } from '../helpers/env.js';
import { useLab } from '../lab/fixture.js';
import { run } from '../../src/host/exec.js';
import { openCapture } from '../../src/capture/index.js';
import { decodeFrame, findLayer } from '../../src/packet/index.js';
import { pingParams } from '../../probes/icmp/contract.js';
import { runPing as enginePing } from '../../probes/icmp/node.js';
import { searchMtu } from '../../probes/mtu/node.js';
import { runPing } from '../../probes/icmp/run.js';
import { cliJson, labDeps } from '../unit/vlan/lab-deps.js';

const test = needsRoot(anyTest);
const lab = useLab(test);

let A: Netns, R: Netns, B: Netns;

test.before(async () => {
  A = await createNetns('vlping-a');
  R = await createNetns('vlping-r');
  B = await createNetns('vlping-b');
  await run('ip', ['link', 'add', 'a0', 'netns', A.name, 'type', 'veth', 'peer', 'name', 'r0', 'netns', R.name]);
  await run('ip', ['link', 'add', 'r1', 'netns', R.name, 'type', 'veth', 'peer', 'name', 'b0', 'netns', B.name]);
  const ip = (ns: Netns, ...args: string[]) => run('ip', args, { netns: ns.name });
  await ip(A, 'addr', 'add', '10.201.1.1/24', 'dev', 'a0');
  await ip(A, 'addr', 'add', '10.201.1.2/24', 'dev', 'a0');
  await ip(A, 'link', 'set', 'a0', 'up');
  await ip(A, 'route', 'add', 'default', 'via', '10.201.1.254');
  await ip(R, 'addr', 'add', '10.201.1.254/24', 'dev', 'r0');
  await ip(R, 'addr', 'add', '10.201.2.254/24', 'dev', 'r1');
  await ip(R, 'link', 'set', 'r0', 'up');
  await ip(R, 'link', 'set', 'r1', 'mtu', '1400', 'up');
  await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { netns: R.name });
  await ip(B, 'addr', 'add', '10.201.2.1/24', 'dev', 'b0');
  await ip(B, 'link', 'set', 'b0', 'mtu', '1400', 'up');
  await ip(B, 'route', 'add', 'default', 'via', '10.201.2.254');
});

test.after.always(async () => {
  for (const ns of [A, R, B]) await ns?.destroy();
});

const p = (o: Record<string, unknown>) => pingParams.parse({ netns: A.name, ...o });

test.serial('echo through a router: sent, received, 0 % loss, rtt min ≤ avg ≤ max, mdev ≥ 0, replies from the destination', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 4, intervalMs: 20, timeoutMs: 1000 }));
  t.is(r!.status, 'ok');
  t.is(r!.sent, 4);
  t.is(r!.received, 4);
  t.is(r!.lossPct, 0);
  t.true(r!.rtt!.min <= r!.rtt!.avg && r!.rtt!.avg <= r!.rtt!.max);
  t.true(r!.rtt!.mdev >= 0);
  t.deepEqual(r!.replies.map((x) => x.seq), [1, 2, 3, 4]);
  t.true(r!.replies.every((x) => x.from === '10.201.2.1' && x.ttl === 63), 'one hop: TTL 64 - 1');
});

test.serial('--df --size above the next hop: frag-needed decoded with the router and the next-hop MTU', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 2, intervalMs: 20, timeoutMs: 500, df: true, size: 1472 }));
  t.is(r!.status, 'frag-needed');
  t.is(r!.received, 0);
  t.is(r!.ipSize, 1500);
  const e = r!.errors.find((x) => x.kind === 'frag-needed');
  t.truthy(e);
  t.is(e!.from, '10.201.1.254');
  t.is(e!.nextHopMtu, 1400);
  t.is(e!.type, 3);
  t.is(e!.code, 4);
});

test.serial('without DF the same size is fragmented by the router and answered', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 2, intervalMs: 20, timeoutMs: 1000, df: false, size: 1472 }));
  t.is(r!.status, 'ok');
  t.is(r!.received, 2);
});

test.serial('TTL 1: time exceeded from the router', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 2, intervalMs: 20, timeoutMs: 500, ttl: 1 }));
  t.is(r!.received, 0);
  const e = r!.errors.find((x) => x.kind === 'time-exceeded');
  t.truthy(e);
  t.is(e!.from, '10.201.1.254');
  t.is(e!.type, 11);
});

test.serial('a network the router has no route to: destination unreachable from the router', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.9.1'], count: 2, intervalMs: 20, timeoutMs: 500 }));
  t.is(r!.status, 'unreachable');
  const e = r!.errors.find((x) => x.kind === 'unreachable');
  t.truthy(e);
  t.is(e!.from, '10.201.1.254');
  t.regex(e!.text, /network unreachable/);
});

test.serial('datagram above the local MTU: EMSGSIZE reported as local-mtu, nothing counted as sent', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 2, intervalMs: 10, timeoutMs: 200, df: true, size: 1600 }));
  t.is(r!.status, 'local-mtu');
  t.is(r!.sent, 0);
  t.is(r!.sendErrors.length, 2);
  t.true(r!.sendErrors.every((e) => e.code === 'EMSGSIZE'));
});

test.serial('source address selection: the request carries the chosen source and the reply comes back to it', async (t) => {
  const cap = await openCapture({ iface: 'b0', netns: B.name, filter: { ipProto: 'icmp' }, direction: 'in' });
  try {
    const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 2, intervalMs: 20, timeoutMs: 1000, source: '10.201.1.2' }));
    t.is(r!.received, 2);
    await new Promise((res) => setTimeout(res, 50));
    const srcs = cap.take().map((f) => findLayer(decodeFrame(f.bytes).layers, 'ipv4')?.src);
    t.true(srcs.length >= 2);
    t.true(srcs.every((s) => s === '10.201.1.2'));
  } finally {
    cap.close();
  }
});

test.serial('source interface: bound to a0 it works; an interface that does not exist is ENOENT', async (t) => {
  const [r] = await enginePing(p({ dests: ['10.201.2.1'], count: 1, timeoutMs: 1000, iface: 'a0' }));
  t.is(r!.received, 1);
  const e = await t.throwsAsync(enginePing(p({ dests: ['10.201.2.1'], count: 1, iface: 'nosuch0' })));
  t.is((e as any).code, 'ENOENT');
});

test.serial('several destinations at once, each with its own figures', async (t) => {
  const rs = await enginePing(p({ dests: ['10.201.2.1', '10.201.1.254', '10.201.1.77'], count: 2, intervalMs: 20, timeoutMs: 400 }));
  t.deepEqual(rs.map((r) => [r.dest, r.status]), [
    ['10.201.2.1', 'ok'],
    ['10.201.1.254', 'ok'],
    ['10.201.1.77', 'timeout'],
  ]);
});

test.serial('path MTU search through the router jumps to the next-hop MTU from frag-needed', async (t) => {
  const r = await searchMtu({ dest: '10.201.2.1', netns: A.name, low: 84, attempts: 2, timeoutMs: 300 }, 'a');
  t.is(r.pathMtu, 1400);
  t.is(r.fragNeeded?.nextHopMtu, 1400);
  t.is(r.fragNeeded?.from, '10.201.1.254');
  t.deepEqual(r.probes.map((x) => x.size), [84, 1500, 1400], 'low, configured MTU, then the router\'s figure');
});

/* ---------------------------------------------------------------- lab part */

test.serial('lab: ping from an agent to two nodes\' tenant addresses (CLI, original DEST,DEST form)', async (t) => {
  const [n1, n2] = [lab.node('compute-2'), lab.node('network-1')];
  const r = await cliJson(lab.state.configPath, ['ping', 'compute-1', `${n1.addresses.net},${n2.addresses.net}`, '--count', '2', '--interval', '50']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.json.data.results.map((x: any) => [x.dest, x.received]), [
    [n1.addresses.net, 2],
    [n2.addresses.net, 2],
  ]);
  t.regex(r.json.verdict, /all 2 destinations answered/);
});

test.serial('lab: an address nobody has → exit 1 with "no reply"', async (t) => {
  const x = lab.state.octet;
  const r = await cliJson(lab.state.configPath, ['ping', 'compute-1', `10.${x}.1.77`, '--count', '2', '--interval', '50', '--timeout', '0.3']);
  t.is(r.code, 1);
  t.is(r.json.data.results[0].status, 'timeout');
  t.regex(r.json.verdict, /no reply/);
});

test.serial('lab: --df --size beyond the tenant NIC MTU → local MTU reported', async (t) => {
  const d = await labDeps(lab.state.configPath);
  const r = await runPing(d, { agent: 'compute-1', dests: lab.node('compute-2').addresses.net, count: 1, df: true, size: 1473, timeoutS: 0.3 });
  t.false(r.ok);
  t.is((r.data as any).results[0].status, 'local-mtu');
});

test.serial('lab: the original compat method `ping` answers in the {code, message, data} envelope', async (t) => {
  const d = await labDeps(lab.state.configPath);
  const c = d.client('compute-1');
  const good = lab.node('compute-2').addresses.net;
  const ok = (await c.callRaw('ping', { ips: [good], count: 2, timeout: 1 })) as any;
  t.is(ok.code, 0);
  t.is(ok.data[good].received, 2);
  t.is(ok.data[good].packet_loss, '0%');
  // positional params in the original order: ips, boardcast, count, timeout, interface
  const pos = (await c.callRaw('ping', [[good], false, 1, 1])) as any;
  t.is(pos.code, 0);
  t.is(pos.data[good].sent, 1);
  const bcast = (await c.callRaw('ping', { ips: [good], boardcast: true })) as any;
  t.is(bcast.code, 1);
  t.regex(bcast.message, /broadcast/);
});

test.serial('lab: ping from inside the qdhcp namespace (--netns) reaches a VM on that network', async (t) => {
  const net = lab.network('vlan');
  const vm = lab.ports({ network: 'vlan', node: 'compute-2' })[0]!;
  const r = await cliJson(lab.state.configPath, ['ping', net.dhcp.node, vm.ip, '--netns', net.dhcp.netns, '--count', '2', '--interval', '50']);
  t.is(r.code, 0, JSON.stringify(r.json));
  t.is(r.json.data.results[0].received, 2);
});
