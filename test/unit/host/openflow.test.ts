/**
 * The OpenFlow 1.3 flow-table reader (src/host/openflow.ts) on the bytes real ovs-vswitchd
 * bridges sent the lab (test/fixtures/ovs/README.txt): every flow prints as ovs-ofctl
 * printed it at the same moment, the DHCP probe's segmentation reads the same from both,
 * and malformed input is only ever a StethError.
 */
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowDumpParser, dumpFlowsOverSocket, flowStatsRequest, formatFlow, helloMessage } from '../../../src/host/openflow.js';
import { segmentationFromFlows } from '../../../probes/dhcp/parse.js';
import { snapshotFromRows } from '../../../src/host/ovs.js';
import { transactResult } from '../../../src/host/ovsdb.js';
import { StethError } from '../../../src/errors.js';

const OVS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/ovs');
interface BridgeCapture {
  sent: string;
  received: string;
  ofctl: string[];
}
const flowsOf = (tag: string): Record<string, BridgeCapture> => (JSON.parse(readFileSync(join(OVS, `openflow-${tag}.json`), 'utf8')) as { bridges: Record<string, BridgeCapture> }).bridges;
const lab = JSON.parse(readFileSync(join(OVS, 'lab-ports.json'), 'utf8')) as { ports: Array<{ id: string; node: string; networkId: string }>; networks: Array<{ id: string; type: string; segmentationId: number }> };
const XID = 0x57e7;

function parse(bytes: Buffer, chunk = bytes.length): { lines: string[]; done: boolean } {
  const p = new FlowDumpParser(XID);
  for (let at = 0; at < bytes.length; at += chunk) p.push(bytes.subarray(at, at + chunk));
  return { lines: p.flows.map(formatFlow), done: p.done };
}

/** Lines where ovs-ofctl spells out an action steth does not decode (learn): printed as nx_action(N). */
const NOT_SPELLED = /learn\(/;

for (const tag of ['compute-1', 'network-1', 'compute-1-qvo-removed']) {
  for (const [bridge, cap] of Object.entries(flowsOf(tag))) {
    test(`${tag} ${bridge}: the request is HELLO {1.3} + OFPMP_FLOW; each flow prints as ovs-ofctl printed it`, (t) => {
      t.is(cap.sent, Buffer.concat([helloMessage(XID - 1), flowStatsRequest(XID)]).toString('hex'));
      const { lines, done } = parse(Buffer.from(cap.received, 'hex'));
      t.true(done);
      t.is(lines.length, cap.ofctl.length);
      lines.forEach((l, i) => {
        if (NOT_SPELLED.test(cap.ofctl[i]!)) t.is(l, cap.ofctl[i]!.replace(/learn\(.*\),output/, 'nx_action(16),output'));
        else t.is(l, cap.ofctl[i]!);
      });
    });
  }
}

test('the reply fed one byte at a time decodes the same', (t) => {
  const cap = flowsOf('compute-1')['br-tun']!;
  t.deepEqual(parse(Buffer.from(cap.received, 'hex'), 1).lines, parse(Buffer.from(cap.received, 'hex')).lines);
});

test('segmentation read from the decoded flows is the one read from ovs-ofctl, for every VLAN in every table', (t) => {
  const node = flowsOf('compute-1');
  const dumps = (pick: (c: BridgeCapture) => string[]) => ['br-eth1', 'br-tun'].map((b) => ({ bridge: b, lines: pick(node[b]!) }));
  const decoded = dumps((c) => parse(Buffer.from(c.received, 'hex')).lines);
  const printed = dumps((c) => c.ofctl);
  for (let vlan = 0; vlan < 32; vlan++) t.deepEqual(segmentationFromFlows(decoded, vlan), segmentationFromFlows(printed, vlan), `local VLAN ${vlan}`);
  // the lab's tenant networks, through their local VLANs on compute-1's br-int
  const ovsdb = JSON.parse(readFileSync(join(OVS, 'ovsdb-compute-1.json'), 'utf8')) as { reply: string };
  const [bt, pt, it] = transactResult('unix:/fixture', JSON.parse(ovsdb.reply), 3);
  const snap = snapshotFromRows(bt!.rows, pt!.rows, it!.rows);
  for (const net of lab.networks) {
    const port = lab.ports.find((p) => p.node === 'compute-1' && p.networkId === net.id)!;
    const tag = snap.ports.find((p) => p.externalIds['iface-id'] === port.id)!.tag!;
    t.deepEqual(segmentationFromFlows(decoded, tag), { type: net.type, id: net.segmentationId, bridge: net.type === 'vxlan' ? 'br-tun' : 'br-eth1' });
  }
  // the other ways a tunnel id is set (table 200 of compute-1's br-tun, test/fixtures/capture-ovs.mjs)
  t.deepEqual(segmentationFromFlows(decoded, 7), { type: 'vxlan', id: 0x64, bridge: 'br-tun' });
  t.deepEqual(segmentationFromFlows(decoded, 8), { type: 'vxlan', id: 0x65, bridge: 'br-tun' });
  t.deepEqual(segmentationFromFlows(decoded, 10), { type: 'vlan', id: 300, bridge: 'br-tun' });
});

test('a reply in several multipart messages (MORE flag) is read to the last one', (t) => {
  const one = Buffer.from(flowsOf('compute-1')['br-tun']!.received, 'hex');
  // cut the captured multipart reply into one message per flow entry, MORE on all but the last
  const hello = one.subarray(0, one.readUInt16BE(2));
  const mp = one.subarray(hello.length, hello.length + one.readUInt16BE(hello.length + 2));
  const entries: Buffer[] = [];
  for (let off = 16; off < mp.length; off += mp.readUInt16BE(off)) entries.push(mp.subarray(off, off + mp.readUInt16BE(off)));
  const msgs = entries.map((e, i) => {
    const h = Buffer.from(mp.subarray(0, 16));
    h.writeUInt16BE(16 + e.length, 2);
    h.writeUInt16BE(i < entries.length - 1 ? 1 : 0, 10);
    return Buffer.concat([h, e]);
  });
  const p = new FlowDumpParser(XID);
  p.push(hello);
  msgs.slice(0, -1).forEach((m) => p.push(m));
  t.false(p.done);
  p.push(msgs.at(-1)!);
  t.true(p.done);
  t.deepEqual(p.flows.map(formatFlow), parse(one).lines);
});

test('an ECHO request is answered with the same xid and body; a version-negotiation error names the cause', (t) => {
  const p = new FlowDumpParser(XID, 'br-x');
  const echo = Buffer.from('0402000c0000abcd01020304', 'hex');
  t.deepEqual(p.push(echo), [Buffer.from('0403000c0000abcd01020304', 'hex')]);
  // OFPT_ERROR, OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE, as a 1.0-only bridge sends it
  const e = t.throws(() => new FlowDumpParser(XID, 'br-x').push(Buffer.from('0101000c0000000000000000', 'hex'))) as StethError;
  t.is(e.code, 'ETOOL');
  t.regex(e.message, /br-x answered OpenFlow error type 0 code 0 \(version negotiation failed: the bridge does not allow OpenFlow 1\.3\)/);
});

test('every truncation of a real flow-stats reply is ETOOL, never a RangeError', (t) => {
  const one = Buffer.from(flowsOf('compute-1')['br-tun']!.received, 'hex');
  const hello = one.readUInt16BE(2);
  const mp = one.subarray(hello, hello + one.readUInt16BE(hello + 2));
  for (let len = 17; len < mp.length; len++) {
    const cut = Buffer.from(mp.subarray(0, len));
    cut.writeUInt16BE(len, 2);
    try {
      new FlowDumpParser(XID).push(cut);
    } catch (e) {
      t.true(e instanceof StethError && e.code === 'ETOOL', `cut at ${len}: ${String(e)}`);
    }
  }
});

testProp(
  'arbitrary bytes after a multipart-reply header: flows or ETOOL, nothing else',
  [fc.uint8Array({ maxLength: 300 })],
  (t, body) => {
    const h = Buffer.from('04130000000057e70001000000000000', 'hex');
    const msg = Buffer.concat([h, Buffer.from(body)]);
    msg.writeUInt16BE(msg.length, 2);
    try {
      const p = new FlowDumpParser(XID);
      p.push(msg);
      p.flows.forEach(formatFlow);
      t.true(p.done);
    } catch (e) {
      t.true(e instanceof StethError && e.code === 'ETOOL', String(e));
    }
  },
  { numRuns: 500 },
);

test('over a socket: a fake bridge answering with the captured bytes gives ovs-ofctl\'s lines; no socket is ETOOL at connect', async (t) => {
  const cap = flowsOf('network-1')['br-tun']!;
  const d = mkdtempSync(join(tmpdir(), 'steth-of-'));
  const path = join(d, 'br-tun.mgmt');
  const server = createServer((s) => {
    s.once('data', () => s.write(Buffer.from(cap.received, 'hex')));
    s.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(path, res));
  t.teardown(() => {
    server.close();
    rmSync(d, { recursive: true, force: true });
  });
  t.deepEqual(await dumpFlowsOverSocket(path), cap.ofctl);
  const e = (await t.throwsAsync(dumpFlowsOverSocket(join(d, 'nothere.mgmt')))) as StethError;
  t.is(e.code, 'ETOOL');
  t.deepEqual(e.detail, { stage: 'connect' });
});
