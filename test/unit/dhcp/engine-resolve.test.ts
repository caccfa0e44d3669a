/**
 * resolveOnAgents (probes/dhcp/engine.ts) against a fake fan-out: which MAC the hostsfile
 * lookup uses, where it is asked, and that it does not wait for agents that do not matter.
 */
import test from 'ava';
import type { AgentEntry } from '../../../src/config/types.js';
import type { MethodSpec } from '../../../src/rpc/method.js';
import { resolveOnAgents, type EngineCtx } from '../../../probes/dhcp/engine.js';
import type { PortNodeFacts } from '../../../probes/dhcp/model.js';
import { hybridPort, MAC, PORT_ID, server } from './fakes.js';

const agent = (name: string): AgentEntry => ({ name, url: `http://${name}:9698/`, addresses: {}, nics: { net: 'eth1' } });
const absent = (node: string): { found: boolean; facts: PortNodeFacts } => ({ found: false, facts: { node, ovs: null, devices: {}, vswitchdRunning: true, warnings: [] } });
function hosting(node: string, mac: string): { found: boolean; facts: PortNodeFacts } {
  const p = hybridPort();
  return { found: true, facts: { ...p.hostFacts, node, ovs: { ...p.ovs!, externalIds: { 'iface-id': PORT_ID, 'attached-mac': mac } } } };
}

type Handler = (agent: string, params: Record<string, unknown>) => Promise<unknown>;

/** An EngineCtx whose calls go to handlers by method name; every call is logged. */
function fakeCtx(names: string[], handlers: Record<string, Handler>): EngineCtx & { log: string[] } {
  const log: string[] = [];
  return {
    agents: names.map(agent),
    signal: new AbortController().signal,
    log,
    async call(name: string, spec: MethodSpec<never, never>, params: unknown) {
      log.push(`${spec.name} ${name}${(params as { mac?: string }).mac ? ` ${(params as { mac: string }).mac}` : ''}`);
      const h = handlers[spec.name];
      if (!h) throw new Error(`unexpected ${spec.name}`);
      return (await h(name, params as Record<string, unknown>)) as never;
    },
  } as EngineCtx & { log: string[] };
}

const servers: Handler = async (a) => ({ servers: a === 'network-1' ? [server({ hostEntry: undefined, hostsFileRead: false })] : [] });
const hostEntry: Handler = async () => ({ hostsFileRead: true, hostEntry: { mac: MAC, ip: '10.9.100.10' } });

test('the hostsfile line is asked of the DHCP node as soon as the MAC and its servers are in, not after a slow agent', async (t) => {
  const order: string[] = [];
  let release: () => void = () => undefined;
  const slow = new Promise<void>((res) => {
    const fallback = setTimeout(res, 2000); // only a wrong implementation gets here: the order below then fails
    release = () => {
      clearTimeout(fallback);
      res();
    };
  });
  const ctx = fakeCtx(['network-1', 'compute-1', 'compute-2'], {
    'dhcp.portInfo': async (a) => {
      if (a === 'compute-2') {
        await slow;
        order.push('compute-2 answered');
      }
      return a === 'compute-1' ? hosting('compute-1', MAC) : absent(a);
    },
    'dhcp.servers': servers,
    'dhcp.hostEntry': async (a, p) => {
      order.push(`hostEntry ${a} ${String(p.mac)}`);
      release();
      return await hostEntry(a, p);
    },
  });
  const port = await resolveOnAgents(ctx, { portId: PORT_ID });
  t.deepEqual(order, [`hostEntry network-1 ${MAC}`, 'compute-2 answered']);
  t.is(port.host, 'compute-1');
  t.is(port.mac, MAC);
  t.deepEqual(port.servers[0]?.hostEntry, { mac: MAC, ip: '10.9.100.10' });
  t.true(port.servers[0]?.hostsFileRead);
});

test('two agents with the port: the MAC is the first configured agent\'s, even when the other answers first', async (t) => {
  let secondAnswered: () => void = () => undefined;
  const second = new Promise<void>((res) => (secondAnswered = res));
  const ctx = fakeCtx(['network-1', 'compute-1', 'compute-2'], {
    'dhcp.portInfo': async (a) => {
      if (a === 'compute-1') await second;
      if (a === 'compute-2') queueMicrotask(secondAnswered);
      return a === 'compute-1' ? hosting('compute-1', 'fa:16:3e:00:00:c1') : a === 'compute-2' ? hosting('compute-2', 'fa:16:3e:00:00:c2') : absent(a);
    },
    'dhcp.servers': servers,
    'dhcp.hostEntry': hostEntry,
  });
  await resolveOnAgents(ctx, { portId: PORT_ID });
  t.deepEqual(
    ctx.log.filter((l) => l.startsWith('dhcp.hostEntry')),
    ['dhcp.hostEntry network-1 fa:16:3e:00:00:c1'],
  );
});

test('a MAC from Neutron wins over OVSDB\'s; a MAC given by the operator goes with dhcp.servers and no lookup follows', async (t) => {
  const handlers = { 'dhcp.portInfo': async (a: string) => (a === 'compute-1' ? hosting('compute-1', MAC) : absent(a)), 'dhcp.servers': servers, 'dhcp.hostEntry': hostEntry };
  const hinted = fakeCtx(['network-1', 'compute-1'], handlers);
  await resolveOnAgents(hinted, { portId: PORT_ID, hints: { hints: async () => ({ mac: 'fa:16:3e:00:00:99', source: 'neutron' }) } });
  t.deepEqual(hinted.log.filter((l) => l.startsWith('dhcp.hostEntry')), ['dhcp.hostEntry network-1 fa:16:3e:00:00:99']);
  const given = fakeCtx(['network-1', 'compute-1'], handlers);
  await resolveOnAgents(given, { portId: PORT_ID, mac: 'FA:16:3E:00:00:77' });
  t.false(given.log.some((l) => l.startsWith('dhcp.hostEntry')));
  t.true(given.log.includes('dhcp.servers network-1 fa:16:3e:00:00:77'));
});

test('a hint source that fails fails the resolution with its error', async (t) => {
  const ctx = fakeCtx(['network-1'], { 'dhcp.portInfo': async (a) => absent(a), 'dhcp.servers': servers, 'dhcp.hostEntry': hostEntry });
  await t.throwsAsync(resolveOnAgents(ctx, { portId: PORT_ID, hints: { hints: async () => Promise.reject(new Error('neutron down')) } }), { message: 'neutron down' });
});
