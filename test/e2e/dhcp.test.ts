/**
 * check-dhcp end to end in the lab (real OVS, dnsmasq, agents, libpcap): healthy
 * VLAN / VXLAN ports, hybrid and non-hybrid, the original forms, --full, --pcap,
 * and the original agent calls check_dhcp_on_comp / check_dhcp_on_net.
 */
import anyTest from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../helpers/env.js';
import { useLab } from '../lab/fixture.js';
import { readPcap } from '../../src/capture/pcapfile.js';
import { decodeFrame, findLayer } from '../../src/packet/index.js';
import { leasesFor } from '../../probes/dhcp/parse.js';
import { agentPacketSockets, row, rows, steth } from './dhcp-helpers.js';
import { originalCall } from './agent-fixture.js';

const test = needsRoot(anyTest);
const lab = useLab(test);

test.serial('healthy hybrid VLAN port: pass, every hop saw it, segmentation VLAN on the wire, offered IP = fixed IP, no capture left', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const seg = lab.network('vlan').segmentationId;
  const before = await agentPacketSockets(lab);
  const r = await steth(lab, ['check-dhcp', port.id]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.true(r.json.ok);
  t.deepEqual(
    rows(r).map((x) => x.role),
    ['tap', 'qbr', 'qvb', 'qvo', 'compute-uplink', 'dhcp-uplink', 'qdhcp'],
  );
  for (const x of rows(r)) {
    t.is(x.offer, true, `${x.device} saw the OFFER`);
    if (!['tap', 'qbr'].includes(x.role)) t.is(x.discover, true, `${x.device} saw the DISCOVER`);
  }
  t.is(row(r, 'compute-uplink').discoverTags, String(seg));
  t.is(row(r, 'dhcp-uplink').discoverTags, String(seg));
  t.is(r.json.data.verdict.offer.yiaddr, port.ip);
  t.true(r.json.data.verdict.ipMatches);
  t.is(r.json.data.port.hybrid, true);
  t.is(await agentPacketSockets(lab), before);
});

test.serial('healthy VXLAN port: pass, VNI and tunnel endpoints on the underlay', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vxlan' })[0]!;
  const net = lab.network('vxlan');
  const r = await steth(lab, ['check-dhcp', port.id]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.is(r.json.data.port.network.type, 'vxlan');
  t.is(r.json.data.port.network.segmentationId, net.segmentationId);
  t.regex(row(r, 'compute-uplink').discoverTags, new RegExp(`vxlan vni ${net.segmentationId} → ${lab.node('network-1').underlay.replace(/\./g, '\\.')}`));
  t.is(row(r, 'qdhcp').discover, true);
  t.is(r.json.data.verdict.offer.yiaddr, port.ip);
  t.is(r.json.data.verdict.offer.mtu, net.mtu);
});

test.serial('non-hybrid port (tap on br-int): sent by packet-out as the tap, OFFER seen at the tap', async (t) => {
  const port = lab.ports({ hybrid: false })[0]!;
  const r = await steth(lab, ['check-dhcp', port.id]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.is(r.json.data.port.hybrid, false);
  t.is(r.json.data.plan.injection.mode, 'packet-out');
  t.deepEqual(
    rows(r).map((x) => x.role),
    ['tap', 'compute-uplink', 'dhcp-uplink', 'qdhcp'],
  );
  t.is(row(r, 'tap').offer, true);
  t.is(r.json.data.verdict.offer.yiaddr, port.ip);
});

test.serial('port on compute-2 passes through its own NIC', async (t) => {
  const port = lab.ports({ node: 'compute-2', network: 'vlan' })[0]!;
  const r = await steth(lab, ['check-dhcp', port.id]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.is(r.json.data.port.host, 'compute-2');
  t.is(row(r, 'compute-uplink').node, 'compute-2');
});

test.serial('--full: REQUEST is ACKed, then RELEASEd: no lease left in the dnsmasq lease file', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const leaseFile = join(lab.network('vlan').dhcp.hostsFile, '..', 'leases');
  const r = await steth(lab, ['check-dhcp', port.id, '--full']);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.truthy(r.json.data.exchange.ack, 'ACK received');
  t.is(r.json.data.exchange.ack.yiaddr, port.ip);
  t.true(r.json.data.exchange.released);
  // dnsmasq rewrites its lease file after the RELEASE: poll until it has (bounded), then assert
  let lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    lines = leasesFor(await readFile(leaseFile, 'utf8').catch(() => ''), port.mac);
    if (lines.length === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  t.deepEqual(lines, [], 'no lease for the port MAC');
});

test.serial('--pcap DIR writes one readable pcap per capture point with this probe only', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'steth-dhcp-pcap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await steth(lab, ['check-dhcp', port.id, '--pcap', dir]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.pcap'));
  t.is(files.length, rows(r).length);
  const xid = r.json.data.xid as number;
  for (const f of files) {
    const p = readPcap(await readFile(join(dir, f)));
    t.true(p.frames.length > 0, f);
    for (const fr of p.frames) t.is(findLayer(decodeFrame(fr.bytes).layers, 'dhcp')?.xid, xid, f);
  }
});

test.serial('original form check-dhcp-on-comp PORT PHYS vlan: Device Name / Result with the DHCP messages per device', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const nic = lab.node('compute-1').nics.net;
  const r = await steth(lab, ['check-dhcp-on-comp', port.id, nic, 'vlan']);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  const table = r.json.tables[0];
  t.deepEqual(table.columns, ['Device Name', 'Result']);
  const byName = Object.fromEntries(table.rows.map((x: any) => [String(x['Device Name']).split(' ')[0], x.Result]));
  t.regex(byName.qvo, /DHCPDISCOVER, DHCPOFFER/);
  t.regex(byName.qvb, /DHCPDISCOVER/);
  t.regex(byName.tap, /DHCPOFFER/);
  t.regex(byName[nic], /DHCPDISCOVER, DHCPOFFER/);
  // only the compute node's hops are watched
  t.true(rows(r).every((x) => x.node === 'compute-1'));
});

test.serial('original form check-dhcp-on-network PORT PHYS vlan: ARP from the qdhcp namespace answered by the port', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const nic = lab.node('network-1').nics.net;
  const r = await steth(lab, ['check-dhcp-on-network', port.id, nic, 'vlan']);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.is(r.json.data.arp.replyMac, port.mac);
  const table = r.json.tables[0];
  t.deepEqual(table.columns, ['Device Name', 'Result']);
  const nicRow = table.rows.find((x: any) => x['Device Name'] === nic);
  t.regex(nicRow.Result, /request/);
});

test.serial('agent compat call check_dhcp_on_comp answers in the original {code, message, data} envelope', async (t) => {
  const { AgentClient } = await import('../../src/rpc/client.js');
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const node = lab.node('compute-1');
  const c = new AgentClient({ name: node.name, url: node.agentUrl, token: lab.state.token });
  const res = (await c.callRaw('check_dhcp_on_comp', { port_id: port.id, port_mac: port.mac, phy_iface: node.nics.net, net_type: 'vlan' })) as { code: number; message: string; data: Record<string, string[]> };
  t.is(res.code, 0, res.message);
  t.true(res.data.qvo!.includes('DHCPDISCOVER'));
  t.true(res.data.qvo!.includes('DHCPOFFER'));
  t.true(res.data[node.nics.net]!.includes('DHCPDISCOVER'));
  const bad = (await c.callRaw('check_dhcp_on_comp', { port_id: '00000000-0000-4000-8000-000000000000', port_mac: port.mac, phy_iface: node.nics.net })) as { code: number; message: string };
  t.is(bad.code, 1);
  t.regex(bad.message, /not plugged/);
});

test.serial('agent compat call check_dhcp_on_net over HTTP (original client, keyword params): the qdhcp port and the NIC saw the ARP request and the port\'s reply', async (t) => {
  const port = lab.ports({ node: 'compute-1', hybrid: true, network: 'vlan' })[0]!;
  const net = lab.network('vlan');
  const node = lab.node(net.dhcp.node);
  const nic = node.nics.net;
  const call = (params: Record<string, string>) => originalCall(node.agentUrl, lab.state.token, 'check_dhcp_on_net', params);

  const r = await call({ net_id: net.id, port_ip: port.ip, phy_iface: nic, net_type: 'vlan' });
  t.is(r.status, 200);
  const env = r.json.result;
  t.deepEqual(Object.keys(env).sort(), ['code', 'data', 'message']);
  t.is(env.code, 0, env.message);
  t.is(env.message, '');
  // watched: the DHCP port inside qdhcp-NET, its OVS bridge, the physical bridge and the NIC given
  t.deepEqual(Object.keys(env.data).sort(), [net.dhcp.iface, 'br-eth1', 'br-int', nic].sort());
  // the DHCP port sent the who-has (seen by a capture of its own) and got the VM's answer back
  t.deepEqual(env.data[net.dhcp.iface], ['request', 'reply']);
  t.true(env.data[nic].includes('request') && env.data[nic].includes('reply'), JSON.stringify(env.data[nic]));

  // an address nobody holds: the request goes out, no reply is invented
  const [a, b, c] = port.ip.split('.');
  const nobody = await call({ net_id: net.id, port_ip: `${a}.${b}.${c}.250`, phy_iface: nic, net_type: 'vlan' });
  t.is(nobody.json.result.code, 0);
  t.deepEqual(nobody.json.result.data[net.dhcp.iface], ['request']);
  t.false(nobody.json.result.data[nic].includes('reply'));

  // a network without a DHCP port on this node: the original's failure envelope (code 1), not an RPC error
  const none = await call({ net_id: '00000000-0000-4000-8000-000000000000', port_ip: port.ip, phy_iface: nic });
  t.is(none.json.result.code, 1);
  t.regex(none.json.result.message, /no DHCP port of network 00000000-0000-4000-8000-000000000000/);
});
