import test from 'ava';
import { correlate } from '../../../probes/dhcp/correlate.js';
import { dhcpFilter, planHops } from '../../../probes/dhcp/plan.js';
import { at, drop, healthy, hybridPort, nonHybridPort, server } from './fakes.js';

test('healthy hybrid VLAN port: ok, every hop saw DISCOVER where expected and the OFFER, tags shown, IP matches', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  const v = correlate({ port, plan, obs, exchange });
  t.true(v.ok, v.summary);
  t.is(v.ipMatches, true);
  t.deepEqual(
    v.rows.map((r) => [r.role, r.discover, r.offer]),
    [
      ['tap', null, true],
      ['qbr', null, true],
      ['qvb', true, true],
      ['qvo', true, true],
      ['compute-uplink', true, true],
      ['dhcp-uplink', true, true],
      ['qdhcp', true, true],
    ],
  );
  t.is(v.rows.find((r) => r.role === 'compute-uplink')!.discoverTags, '100');
  t.regex(v.summary, /offered 10\.9\.100\.10 \(= fixed IP\)/);
});

test('latency is measured from the DISCOVER leaving the injection device', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  const v = correlate({ port, plan, obs, exchange });
  const qvb = v.rows.find((r) => r.role === 'qvb')!;
  const qdhcp = v.rows.find((r) => r.role === 'qdhcp')!;
  t.is(qvb.discoverMs, 0);
  t.true(qdhcp.discoverMs! > 0);
});

test('hybrid port: inject on qvb; tap and qbr expect only the OFFER', (t) => {
  const plan = planHops(hybridPort());
  t.is(plan.injection?.mode, 'pcap');
  t.regex(plan.injection!.iface, /^qvb/);
  t.false(plan.points.find((p) => p.role === 'tap')!.expectDiscover);
  t.false(plan.points.find((p) => p.role === 'qbr')!.expectDiscover);
  t.true(plan.points.find((p) => p.role === 'qvo')!.expectDiscover);
  t.is(plan.points.find((p) => p.role === 'compute-uplink')!.expectTag, 100);
});

test('non-hybrid port: packet-out as if from the tap on br-int, tap expects only the OFFER', (t) => {
  const port = nonHybridPort();
  const plan = planHops(port);
  t.is(plan.injection?.mode, 'packet-out');
  t.is(plan.injection?.ofport, 5);
  t.deepEqual(
    plan.points.map((p) => p.role),
    ['tap', 'compute-uplink', 'dhcp-uplink', 'qdhcp'],
  );
  const { obs, exchange } = healthy(port);
  t.true(correlate({ port, plan, obs, exchange }).ok);
});

test('wrong VLAN translation: DISCOVER left the compute NIC tagged 101 while the segmentation id is 100', (t) => {
  const port = hybridPort();
  port.hostFacts.segmentation = { type: 'vlan', id: 101, bridge: 'br-eth1' };
  const { plan, obs, exchange } = healthy(port);
  for (const f of at(obs, 'compute-uplink').frames) f.vlanTags = [101];
  for (const f of at(obs, 'dhcp-uplink').frames) f.vlanTags = [101];
  drop(obs, 'qdhcp', 1);
  drop(obs, 'qdhcp', 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.false(v.ok);
  t.is(v.summary, 'DISCOVER left compute-1 eth1 tagged 101, network segmentation id is 100: check VLAN translation flows on br-eth1');
  t.is(v.brokenAt?.role, 'compute-uplink');
  t.true(v.causes.some((c) => /translates local VLAN 3 to VLAN 101/.test(c)));
});

test('VLAN not trunked: left compute tagged 100, never reached the network node NIC', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  for (const r of ['dhcp-uplink', 'qdhcp']) {
    drop(obs, r, 1);
    drop(obs, r, 2);
  }
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.false(v.ok);
  t.deepEqual(v.brokenAt, { node: 'network-1', device: 'eth1', role: 'dhcp-uplink' });
  t.regex(v.summary, /left compute-1 eth1 tagged 100 but never reached network-1 eth1: VLAN 100 not trunked/);
});

test('dnsmasq stopped: DISCOVER reached the qdhcp port, no OFFER, cause named', (t) => {
  const port = hybridPort();
  port.servers = [server({ dnsmasq: { running: false }, hostsFileRead: false })];
  delete port.servers[0]!.hostEntry;
  const { plan, obs, exchange } = healthy(port);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.is(v.brokenAt?.role, 'qdhcp');
  t.regex(v.summary, /^DISCOVER reached the qdhcp port .*, no OFFER: dnsmasq not running in qdhcp-/);
});

test('MAC missing from the hostsfile: diagnosed as such, not as dnsmasq stopped', (t) => {
  const port = hybridPort();
  port.servers = [server()];
  delete port.servers[0]!.hostEntry;
  const { plan, obs, exchange } = healthy(port);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.regex(v.summary, /no OFFER: MAC fa:16:3e:11:22:33 not in its hostsfile$/);
  t.false(v.causes[0]!.includes('not running'));
});

test('no OFFER at the qdhcp port without facts: the generic dnsmasq diagnosis', (t) => {
  const port = hybridPort();
  port.servers = [server({ hostsFileRead: false })];
  delete port.servers[0]!.hostEntry;
  const { plan, obs, exchange } = healthy(port);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  t.regex(correlate({ port, plan, obs, exchange }).summary, /no OFFER: dnsmasq not running or MAC not in its hostsfile$/);
});

test('dead VLAN: seen at qvo, not on the NIC, port tag 4095 named', (t) => {
  const port = hybridPort();
  port.ovs!.tag = 4095;
  const { plan, obs, exchange } = healthy(port);
  for (const r of ['compute-uplink', 'dhcp-uplink', 'qdhcp', 'qvo', 'qvb', 'qbr', 'tap']) drop(obs, r, 2);
  for (const r of ['compute-uplink', 'dhcp-uplink', 'qdhcp']) drop(obs, r, 1);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.is(v.brokenAt?.role, 'compute-uplink');
  t.regex(v.summary, /port tag 4095: port not bound\/wired$/);
});

test('seen at qvb, not at qvo', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  for (const r of ['qvo', 'compute-uplink', 'dhcp-uplink', 'qdhcp']) drop(obs, r, 1);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.is(v.brokenAt?.role, 'qvo');
  t.regex(v.summary, /^DISCOVER seen at qvb\S+, not at qvo\S+/);
});

test('tap detached: the OFFER reached qbr, not the tap', (t) => {
  const port = hybridPort();
  delete port.hostFacts.devices.tap!.master;
  const { plan, obs, exchange } = healthy(port);
  drop(obs, 'tap', 2);
  const v = correlate({ port, plan, obs, exchange });
  t.false(v.ok);
  t.is(v.brokenAt?.role, 'tap');
  t.regex(v.summary, /^OFFER reached qbr\S+, not tap\S+: tap detached from qbr/);
});

test('compute ovs-vswitchd stopped: named at the break after qvo', (t) => {
  const port = hybridPort();
  port.hostFacts.vswitchdRunning = false;
  const { plan, obs, exchange } = healthy(port);
  for (const r of ['compute-uplink', 'dhcp-uplink', 'qdhcp']) drop(obs, r, 1);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.regex(v.summary, /ovs-vswitchd not running on compute-1$/);
});

test('tenant NIC down: the NIC is not observable, the break names it', (t) => {
  const port = hybridPort();
  port.hostFacts.uplink = { name: 'eth1', exists: true, state: 'DOWN', adminUp: false };
  const { plan, obs, exchange } = healthy(port);
  t.truthy(plan.points.find((p) => p.role === 'compute-uplink')!.unobservable);
  for (const r of ['dhcp-uplink', 'qdhcp']) drop(obs, r, 1);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.is(v.brokenAt?.role, 'dhcp-uplink');
  t.regex(v.summary, /eth1 on compute-1 is down$/);
  t.true(v.unobserved.some((u) => u.startsWith('compute-1 eth1')));
});

test('VXLAN tunnel to the wrong remote: outer destination compared with the DHCP node underlay', (t) => {
  const port = hybridPort({ type: 'vxlan' });
  const { plan, obs, exchange } = healthy(port);
  for (const f of at(obs, 'compute-uplink').frames) if (f.encap && f.msgType === 1) f.encap = { ...f.encap, outerDst: '10.9.1.99' };
  for (const r of ['dhcp-uplink', 'qdhcp']) drop(obs, r, 1);
  for (const o of obs) drop(obs, o.point.role, 2);
  exchange.offers = [];
  const v = correlate({ port, plan, obs, exchange });
  t.is(v.summary, "DISCOVER left compute-1 eth1 in a VXLAN tunnel to 10.9.1.99, network-1's underlay address is 10.9.1.1: check remote_ip of the vxlan port on br-tun");
});

test('healthy VXLAN port passes with the VNI shown at the uplinks', (t) => {
  const port = hybridPort({ type: 'vxlan' });
  const { plan, obs, exchange } = healthy(port);
  const v = correlate({ port, plan, obs, exchange });
  t.true(v.ok, v.summary);
  t.regex(v.rows.find((r) => r.role === 'compute-uplink')!.discoverTags, /vxlan vni 1001 → 10\.9\.1\.1/);
});

test('offered IP differs from the fixed IP: fault', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  exchange.offers[0]!.yiaddr = '10.9.100.99';
  const v = correlate({ port, plan, obs, exchange });
  t.false(v.ok);
  t.is(v.ipMatches, false);
  t.regex(v.summary, /offered 10\.9\.100\.99, the port's fixed IP is 10\.9\.100\.10/);
});

test('--full without ACK is a fault; with ACK and release it passes', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  t.false(correlate({ port, plan, obs, exchange, full: true }).ok);
  exchange.ack = { ...exchange.offers[0]! };
  exchange.released = true;
  const v = correlate({ port, plan, obs, exchange, full: true });
  t.true(v.ok);
  t.regex(v.summary, /ACKed and released/);
});

test('a capture point that could not be armed leaves a partial table, not a false break', (t) => {
  const port = hybridPort();
  const { plan, obs, exchange } = healthy(port);
  const o = at(obs, 'dhcp-uplink');
  o.status = 'unarmed';
  o.error = 'agent network-1 unreachable';
  o.frames = [];
  const v = correlate({ port, plan, obs, exchange });
  t.true(v.ok);
  t.regex(v.summary, /1 hop not observed/);
  t.is(v.rows.find((r) => r.role === 'dhcp-uplink')!.discover, null);
  t.regex(v.rows.find((r) => r.role === 'dhcp-uplink')!.note, /unreachable/);
});

test('no OVS interface with the iface-id: cannot send, qvo missing from br-int', (t) => {
  const port = hybridPort();
  port.ovs = null;
  port.hybrid = true;
  port.hostFacts.devices.qvb = { ...port.hostFacts.devices.qvb!, exists: false };
  const plan = planHops(port);
  t.true(plan.blockers.length > 0);
  const v = correlate({ port, plan, obs: [], exchange: null });
  t.false(v.ok);
  t.is(v.brokenAt?.role, 'resolution');
  t.true(v.causes.some((c) => /qvo missing from br-int/.test(c)));
});

test('dhcpFilter is VLAN-aware, matches the xid only, and adds the VXLAN inner form on uplinks', (t) => {
  const f = dhcpFilter(0x1a2b3c4d);
  t.is(f, '(udp and (port 67 or port 68) and udp[12:4] = 0x1a2b3c4d) or (vlan and ((udp and (port 67 or port 68) and udp[12:4] = 0x1a2b3c4d)))');
  const vx = dhcpFilter(1, { vxlan: true });
  t.regex(vx, /udp dst port 4789 and udp\[62:4\] = 0x00000001/);
  // every untagged form comes before the first `vlan` keyword
  t.true(vx.indexOf('4789') < vx.indexOf('vlan'));
  t.throws(() => dhcpFilter(-1));
  t.throws(() => dhcpFilter(2 ** 32));
});

test('VXLAN flood to several tunnels: one copy towards the DHCP node is enough', (t) => {
  const port = hybridPort({ type: 'vxlan' });
  const { plan, obs, exchange } = healthy(port);
  const up = at(obs, 'compute-uplink');
  const d = up.frames.find((f) => f.msgType === 1)!;
  up.frames.unshift({ ...d, encap: { ...d.encap!, outerDst: '10.9.1.3' } });
  t.true(correlate({ port, plan, obs, exchange }).ok);
});
