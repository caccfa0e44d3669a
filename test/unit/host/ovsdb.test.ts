/**
 * The OVSDB socket reader (src/host/ovsdb.ts) and the snapshot both OVSDB readers share
 * (src/host/ovs.ts), on real ovsdb-server replies captured from the embedded lab with the
 * ovs-vsctl output of the same moment (test/fixtures/ovs/README.txt), and against small
 * fake servers on a unix socket for the protocol's edges.
 */
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ovsdbEndpoint, ovsdbTransact, transactResult } from '../../../src/host/ovsdb.js';
import { JsonTextSplitter } from '../../../src/host/jsonstream.js';
import { ovsSnapshot, snapshotFromRows, snapshotFromVsctl, snapshotOps, type OvsSnapshot } from '../../../src/host/ovs.js';
import { StethError } from '../../../src/errors.js';
import { hasTool } from '../../helpers/env.js';

const OVS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/ovs');
interface OvsdbFixture {
  request: { id: number; method: string; params: unknown[] };
  reply: string;
  vsctl: string;
}
const fixture = (tag: string): OvsdbFixture => JSON.parse(readFileSync(join(OVS, `ovsdb-${tag}.json`), 'utf8')) as OvsdbFixture;
const lab = JSON.parse(readFileSync(join(OVS, 'lab-ports.json'), 'utf8')) as {
  qvoRemoved: string;
  ports: Array<{ id: string; node: string; mac: string; hybrid: boolean; networkId: string }>;
  networks: Array<{ id: string; type: string; segmentationId: number }>;
};

function decodeReply(f: OvsdbFixture): OvsSnapshot {
  const [bt, pt, it] = transactResult('unix:/fixture', JSON.parse(f.reply), 3);
  return snapshotFromRows(bt!.rows, pt!.rows, it!.rows);
}

// ---------------------------------------------------------------- real replies

for (const tag of ['compute-1', 'network-1', 'compute-1-qvo-removed']) {
  test(`${tag}: the socket reply and ovs-vsctl's JSON of the same moment decode to the same snapshot`, (t) => {
    const f = fixture(tag);
    t.deepEqual(f.request.params, ['Open_vSwitch', ...snapshotOps()], 'the fixture holds the request steth sends today');
    const fromSocket = decodeReply(f);
    t.deepEqual(fromSocket, snapshotFromVsctl(f.vsctl));
    t.true(fromSocket.ports.length > 3);
  });
}

test('compute-1: each hybrid port is its qvo on br-int with the iface-id, attached-mac, a local VLAN tag and an ofport', (t) => {
  const snap = decodeReply(fixture('compute-1'));
  t.deepEqual(snap.bridges.map((b) => b.name), ['br-eth1', 'br-int', 'br-tun']);
  const mine = lab.ports.filter((p) => p.node === 'compute-1');
  for (const p of mine) {
    const port = snap.ports.find((x) => x.externalIds['iface-id'] === p.id);
    if (!port) return t.fail(`no OVS port carries ${p.id}`);
    t.is(port.bridge, 'br-int');
    t.is(port.name, `${p.hybrid ? 'qvo' : 'tap'}${p.id.slice(0, 11)}`);
    t.is(port.externalIds['attached-mac'], p.mac);
    t.is(typeof port.tag, 'number');
    t.true((port.ofport ?? 0) > 0);
  }
  // patch ports carry their peer in options; VXLAN ports their underlay addresses
  t.is(snap.options['int-br-eth1']?.peer, 'phy-br-eth1');
  const vxlan = snap.ports.filter((p) => p.type === 'vxlan');
  t.true(vxlan.length >= 1);
  for (const v of vxlan) {
    t.regex(snap.options[v.name]?.remote_ip ?? '', /^10\.\d+\.\d+\.\d+$/);
    t.regex(snap.options[v.name]?.local_ip ?? '', /^10\.\d+\.\d+\.\d+$/);
  }
});

test('network-1: the DHCP ports are internal ports on br-int with a tag, one per network', (t) => {
  const snap = decodeReply(fixture('network-1'));
  const dhcp = snap.ports.filter((p) => p.bridge === 'br-int' && p.type === 'internal' && p.name !== 'br-int');
  t.is(dhcp.length, lab.networks.length);
  for (const d of dhcp) t.is(typeof d.tag, 'number');
});

test('compute-1 with qvo-removed: no OVS port carries the removed port; the others are still there', (t) => {
  const snap = decodeReply(fixture('compute-1-qvo-removed'));
  t.is(snap.ports.find((p) => p.externalIds['iface-id'] === lab.qvoRemoved), undefined);
  t.false(snap.bridges.find((b) => b.name === 'br-int')!.ports.includes(`qvo${lab.qvoRemoved.slice(0, 11)}`));
  for (const p of lab.ports.filter((x) => x.node === 'compute-1' && x.id !== lab.qvoRemoved)) t.truthy(snap.ports.find((x) => x.externalIds['iface-id'] === p.id), p.id);
});

// ---------------------------------------------------------------- stream splitting

test('the real reply split at every byte boundary comes out as the one text it is', (t) => {
  const text = fixture('compute-1').reply;
  for (let cut = 1; cut < text.length; cut += 7) {
    const s = new JsonTextSplitter();
    t.deepEqual([...s.push(text.slice(0, cut)), ...s.push(text.slice(cut))], [text], `cut at ${cut}`);
  }
});

testProp(
  'concatenated JSON objects in arbitrary chunks come out one text each, in order',
  [fc.array(fc.jsonValue().map((v) => JSON.stringify({ id: 1, v })), { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 20 })],
  (t, texts, cuts) => {
    const stream = texts.join(' \n');
    const s = new JsonTextSplitter();
    const got: string[] = [];
    let at = 0;
    for (const c of cuts) {
      got.push(...s.push(stream.slice(at, at + c)));
      at += c;
    }
    got.push(...s.push(stream.slice(at)));
    t.deepEqual(got, texts);
  },
);

test('braces and escaped quotes inside strings do not end a text; text between objects is ETOOL', (t) => {
  const s = new JsonTextSplitter();
  t.deepEqual(s.push('{"a":"}{\\"]"'), []);
  t.deepEqual(s.push(',"b":[1,{"c":"\\\\"}]}{"d":1}'), ['{"a":"}{\\"]","b":[1,{"c":"\\\\"}]}', '{"d":1}']);
  const e = t.throws(() => new JsonTextSplitter().push('{"a":1} x {"b":2}'));
  t.is((e as StethError).code, 'ETOOL');
});

// ---------------------------------------------------------------- replies refused

test('a transact error, an operation error, a reply without rows are ETOOL naming what was refused', (t) => {
  const code = (reply: unknown): { code: string; message: string } => {
    const e = t.throws(() => transactResult('unix:/x', reply, 2)) as StethError;
    return { code: e.code, message: e.message };
  };
  t.like(code({ id: 1, result: null, error: 'unknown database' }), { code: 'ETOOL', message: 'OVSDB at unix:/x refused the transaction: "unknown database"' });
  t.like(code({ id: 1, result: [{ rows: [] }, { error: 'syntax error or unknown column', details: 'No column nope in table Port.' }], error: null }), {
    code: 'ETOOL',
    message: 'OVSDB at unix:/x refused operation 2: syntax error or unknown column (No column nope in table Port.)',
  });
  t.like(code({ id: 1, result: [{ rows: [] }], error: null }), { code: 'ETOOL', message: 'OVSDB at unix:/x answered operation 2 without rows' });
});

test('remotes: unix and tcp are spoken here, ssl is not', (t) => {
  t.deepEqual(ovsdbEndpoint('unix:/run/openvswitch/db.sock'), { path: '/run/openvswitch/db.sock' });
  t.deepEqual(ovsdbEndpoint('tcp:10.0.0.1:6640'), { host: '10.0.0.1', port: 6640 });
  t.deepEqual(ovsdbEndpoint('tcp:[fd00::1]:6640'), { host: 'fd00::1', port: 6640 });
  t.is(ovsdbEndpoint('ssl:10.0.0.1:6640'), undefined);
});

// ---------------------------------------------------------------- against fake servers

/** A unix-socket server in a fresh directory; `onConn` drives each connection. */
async function fakeServer(t: { teardown(fn: () => void): void }, onConn: (s: Socket, request: Promise<string>) => void): Promise<{ remote: string; server: Server }> {
  const d = mkdtempSync(join(tmpdir(), 'steth-ovsdb-'));
  const path = join(d, 'db.sock');
  const server = createServer((s) => {
    s.setEncoding('utf8');
    const request = new Promise<string>((res) => {
      let buf = '';
      s.on('data', (c: string) => {
        buf += c;
        res(buf);
      });
    });
    s.on('error', () => undefined);
    onConn(s, request);
  });
  await new Promise<void>((res) => server.listen(path, res));
  t.teardown(() => {
    server.close();
    rmSync(d, { recursive: true, force: true });
  });
  return { remote: `unix:${path}`, server };
}

test('transact over a socket: answers the server\'s echo, reassembles a reply sent in pieces, returns the rows', async (t) => {
  const reply = fixture('compute-1').reply;
  let echoAnswer: Promise<string> | undefined;
  const { remote } = await fakeServer(t, (s, request) => {
    void request.then((req) => {
      t.deepEqual(JSON.parse(req), { id: 1, method: 'transact', params: ['Open_vSwitch', ...snapshotOps()] });
      echoAnswer = new Promise((res) => s.once('data', (c: string) => res(c)));
      s.write('{"id":"echo","method":"echo","params":[]}');
      void echoAnswer.then(() => {
        const third = Math.floor(reply.length / 3);
        s.write(reply.slice(0, third));
        setImmediate(() => {
          s.write(reply.slice(third, 2 * third));
          setImmediate(() => s.write(reply.slice(2 * third)));
        });
      });
    });
  });
  const rows = await ovsdbTransact(remote, 'Open_vSwitch', snapshotOps());
  t.deepEqual(JSON.parse(await echoAnswer!), { id: 'echo', result: [], error: null });
  t.deepEqual(snapshotFromRows(rows[0]!.rows, rows[1]!.rows, rows[2]!.rows), decodeReply(fixture('compute-1')));
});

test('no socket: ETOOL at the connect stage with the ovsdb-server hint; cancelled: ECANCELED; silent: ETIMEDOUT', async (t) => {
  const e = (await t.throwsAsync(ovsdbTransact('unix:/nonexistent/steth/db.sock', 'Open_vSwitch', snapshotOps()))) as StethError;
  t.is(e.code, 'ETOOL');
  t.deepEqual(e.detail, { remote: 'unix:/nonexistent/steth/db.sock', stage: 'connect' });
  t.regex(e.hint!, /ovsdb-server running/);
  const { remote } = await fakeServer(t, () => undefined); // accepts, never answers
  const ac = new AbortController();
  const p = ovsdbTransact(remote, 'Open_vSwitch', snapshotOps(), { signal: ac.signal });
  ac.abort();
  t.is(((await t.throwsAsync(p)) as StethError).code, 'ECANCELED');
  const late = (await t.throwsAsync(ovsdbTransact(remote, 'Open_vSwitch', snapshotOps(), { timeoutMs: 20 }))) as StethError;
  t.is(late.code, 'ETIMEDOUT');
});

test('a server that hangs up before answering, or answers with non-JSON, is ETOOL at the reply stage', async (t) => {
  const { remote: hangs } = await fakeServer(t, (s, request) => void request.then(() => s.end()));
  const e1 = (await t.throwsAsync(ovsdbTransact(hangs, 'Open_vSwitch', snapshotOps()))) as StethError;
  t.is(e1.code, 'ETOOL');
  t.like(e1.detail, { stage: 'reply' });
  const { remote: garbage } = await fakeServer(t, (s, request) => void request.then(() => s.write('{"id":1,"result":[tru}')));
  const e2 = (await t.throwsAsync(ovsdbTransact(garbage, 'Open_vSwitch', snapshotOps()))) as StethError;
  t.is(e2.code, 'ETOOL');
  t.like(e2.detail, { stage: 'reply' });
});

(hasTool('ovs-vsctl') ? test : test.skip)('ovsSnapshot: a server that refuses the socket read gets the same read through ovs-vsctl', async (t) => {
  // the fake refuses every request; ovs-vsctl's first request (get_schema) proves the fallback ran
  const seen: string[] = [];
  const { remote } = await fakeServer(t, (s) => {
    const split = new JsonTextSplitter();
    s.on('data', (c: string) => {
      for (const text of split.push(c)) {
        const m = JSON.parse(text) as { id: unknown; method: string };
        seen.push(m.method);
        s.write(JSON.stringify({ id: m.id, result: null, error: 'refused by the test' }));
      }
    });
  });
  const e = (await t.throwsAsync(ovsSnapshot(remote, { timeoutSec: 2 }))) as StethError;
  t.is(e.code, 'ETOOL');
  t.is(seen[0], 'transact');
  t.true(seen.includes('get_schema'), seen.join(','));
});
