import test from 'ava';
import { StethError } from '../../../src/errors.js';
import { combine, type CombineInput } from '../../../probes/dhcp/resolve.js';
import { hostsFileEntry, leasesFor, parseDnsmasqArgs, segmentationFromFlows } from '../../../probes/dhcp/parse.js';
import { frameObs, offerSummary } from '../../../probes/dhcp/frames.js';
import { decodeFrame, dhcpDiscover, dhcpOption, encodeFrame, type Layer } from '../../../src/packet/index.js';
import { hybridPort, MAC, PORT_ID, server } from './fakes.js';

// flow lines as `ovs-ofctl -O OpenFlow13 dump-flows --no-stats` prints them (lab br-eth1 / br-tun)
const BR_ETH1 = [
  ' priority=4,in_port="phy-br-eth1",dl_vlan=2 actions=mod_vlan_vid:100,NORMAL',
  ' priority=4,in_port="phy-br-eth1",dl_vlan=12 actions=mod_vlan_vid:101,NORMAL',
  ' priority=2,in_port="phy-br-eth1" actions=drop',
  ' priority=0 actions=NORMAL',
];
const BR_TUN = [' table=22, priority=1,dl_vlan=6 actions=strip_vlan,set_field:0x3e9->tun_id,output:"vxlan-0a50010"', ' table=22, priority=0 actions=drop'];

test('segmentation from flows: VLAN translation on the physical bridge', (t) => {
  t.deepEqual(segmentationFromFlows([{ bridge: 'br-eth1', lines: BR_ETH1 }, { bridge: 'br-tun', lines: BR_TUN }], 2), { type: 'vlan', id: 100, bridge: 'br-eth1' });
});

test('segmentation from flows: dl_vlan=1 does not match dl_vlan=12', (t) => {
  t.is(segmentationFromFlows([{ bridge: 'br-eth1', lines: BR_ETH1 }], 1), undefined);
});

test('segmentation from flows: VXLAN tun_id (hex) on br-tun, set_tunnel and load forms', (t) => {
  t.deepEqual(segmentationFromFlows([{ bridge: 'br-tun', lines: BR_TUN }], 6), { type: 'vxlan', id: 1001, bridge: 'br-tun' });
  t.deepEqual(segmentationFromFlows([{ bridge: 'br-tun', lines: ['table=22,dl_vlan=3 actions=strip_vlan,set_tunnel:0x64,output:2'] }], 3)?.id, 100);
  t.deepEqual(segmentationFromFlows([{ bridge: 'br-tun', lines: ['table=22,dl_vlan=3 actions=load:0x65->NXM_NX_TUN_ID[],output:2'] }], 3)?.id, 101);
});

test('segmentation from flows: the higher priority flow wins (a fault overriding translation)', (t) => {
  const lines = [' priority=4,in_port=2,dl_vlan=2 actions=mod_vlan_vid:100,NORMAL', ' priority=9,in_port=2,dl_vlan=2 actions=set_field:4197->vlan_vid,NORMAL'];
  t.deepEqual(segmentationFromFlows([{ bridge: 'br-eth1', lines }], 2), { type: 'vlan', id: 101, bridge: 'br-eth1' });
});

test('dnsmasq argv: hostsfile, leasefile, interface, pidfile in both spellings', (t) => {
  const a = parseDnsmasqArgs(['dnsmasq', '--no-hosts', '--interface=tapabc', '--dhcp-hostsfile=/var/lib/neutron/dhcp/N/host', '-l', '/x/leases', '--pid-file', '/x/pid']);
  t.deepEqual(a, { interfaces: ['tapabc'], hostsFile: '/var/lib/neutron/dhcp/N/host', leaseFile: '/x/leases', pidFile: '/x/pid' });
});

test('hostsfile entry: Neutron and lab formats, case-insensitive MAC, set: tags skipped', (t) => {
  const text = 'fa:16:3e:aa:bb:cc,host-10-0-0-5.openstacklocal,10.0.0.5\nFA:16:3E:11:22:33,set:port-1,host-10-0-0-6,10.0.0.6\n';
  t.deepEqual(hostsFileEntry(text, 'fa:16:3e:aa:bb:cc'), { mac: 'fa:16:3e:aa:bb:cc', hostname: 'host-10-0-0-5.openstacklocal', ip: '10.0.0.5' });
  t.deepEqual(hostsFileEntry(text, 'fa:16:3e:11:22:33'), { mac: 'fa:16:3e:11:22:33', hostname: 'host-10-0-0-6', ip: '10.0.0.6' });
  t.is(hostsFileEntry(text, 'fa:16:3e:00:00:00'), undefined);
});

test('lease lines for a MAC', (t) => {
  const text = '1700000000 fa:16:3e:11:22:33 10.0.0.6 host-10-0-0-6 01:fa:16:3e:11:22:33\n1700000001 fa:16:3e:aa:bb:cc 10.0.0.5 * *\n';
  t.is(leasesFor(text, 'FA:16:3E:11:22:33').length, 1);
  t.deepEqual(leasesFor(text, 'fa:16:3e:00:00:00'), []);
});

function input(over: Partial<CombineInput> = {}): CombineInput {
  const p = hybridPort();
  const hostFacts = { ...p.hostFacts, ovs: p.ovs };
  return {
    portId: PORT_ID,
    infos: [
      { node: 'network-1', ok: true, value: { found: false, facts: { node: 'network-1', ovs: null, devices: {}, warnings: [] } } },
      { node: 'compute-1', ok: true, value: { found: true, facts: hostFacts } },
      { node: 'compute-2', ok: true, value: { found: false, facts: { node: 'compute-2', ovs: null, devices: {}, warnings: [] } } },
    ],
    servers: [
      { node: 'network-1', ok: true, value: { servers: [server(), server({ netns: 'qdhcp-other', networkId: 'other', segmentation: { type: 'vxlan', id: 1001 }, hostEntry: undefined as never })] } },
      { node: 'compute-1', ok: true, value: { servers: [] } },
    ],
    ...over,
  };
}

test('combine: host from OVSDB iface-id, MAC from attached-mac, server chosen by hostsfile entry, fixed IP from it', (t) => {
  const inp = input();
  delete (inp.servers[0]!.value!.servers[1] as { hostEntry?: unknown }).hostEntry;
  const p = combine(inp);
  t.is(p.host, 'compute-1');
  t.is(p.mac, MAC);
  t.true(p.hybrid);
  t.deepEqual(p.servers.map((s) => s.netns), [server().netns]);
  t.deepEqual(p.network, { type: 'vlan', segmentationId: 100, id: server().networkId });
  t.deepEqual(p.fixedIps, ['10.9.100.10']);
  t.is(p.source, 'ovsdb');
});

test('combine: the DHCP side says 100 while the compute flows say 101 → network is 100 (the fault shows on the compute side)', (t) => {
  const inp = input();
  delete (inp.servers[0]!.value!.servers[1] as { hostEntry?: unknown }).hostEntry;
  inp.infos[1]!.value!.facts.segmentation = { type: 'vlan', id: 101, bridge: 'br-eth1' };
  t.is(combine(inp).network.segmentationId, 100);
});

test('combine: Neutron hints take precedence and name the network', (t) => {
  const p = combine(input({ hints: { source: 'neutron', mac: 'fa:16:3e:99:99:99', fixedIps: ['10.9.100.77'], network: { id: 'other', type: 'vxlan', segmentationId: 1001, mtu: 1450 } } }));
  t.is(p.mac, 'fa:16:3e:99:99:99');
  t.deepEqual(p.fixedIps, ['10.9.100.77']);
  t.deepEqual(p.servers.map((s) => s.netns), ['qdhcp-other']);
  t.is(p.network.type, 'vxlan');
  t.is(p.source, 'neutron');
});

test('combine: port nowhere → ENOENT; port nowhere and an agent down → EAGENT naming it', (t) => {
  const inp = input();
  inp.infos[1] = { node: 'compute-1', ok: true, value: { found: false, facts: { node: 'compute-1', ovs: null, devices: {}, warnings: [] } } };
  t.is(t.throws(() => combine(inp), { instanceOf: StethError })?.code, 'ENOENT');
  inp.infos[2] = { node: 'compute-2', ok: false, error: 'connect ECONNREFUSED' };
  const e = t.throws(() => combine(inp), { instanceOf: StethError });
  t.is(e?.code, 'EAGENT');
  t.regex(e?.hint ?? '', /compute-2/);
});

test('combine: an unreachable agent is listed and warned about', (t) => {
  const inp = input();
  inp.infos[0] = { node: 'network-1', ok: false, error: 'timeout' };
  inp.servers[0] = { node: 'network-1', ok: false, error: 'timeout' };
  const p = combine(inp);
  t.deepEqual(p.unreachable, ['network-1']);
  t.deepEqual(p.servers, []);
  t.true(p.warnings.some((w) => /network-1/.test(w)));
});

test('frames: a VXLAN-encapsulated DISCOVER yields VNI, outer addresses and the inner MAC', (t) => {
  const inner = dhcpDiscover({ mac: MAC, xid: 77 });
  const layers: Layer[] = [
    { layer: 'ethernet', dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', etherType: 0x0800 },
    { layer: 'ipv4', src: '10.9.1.2', dst: '10.9.1.1', protocol: 17, ttl: 64, id: 0, df: true, mf: false, fragOffset: 0 } as Layer,
    { layer: 'udp', srcPort: 40000, dstPort: 4789 } as Layer,
    { layer: 'vxlan', flags: 8, vni: 1001, reserved1: 0, reserved2: 0 },
    ...inner,
  ];
  const o = frameObs(encodeFrame(layers), '5', 77);
  t.deepEqual(o?.encap, { vni: 1001, outerSrc: '10.9.1.2', outerDst: '10.9.1.1' });
  t.is(o?.src, MAC);
  t.is(o?.msgType, 1);
  t.is(frameObs(encodeFrame(layers), '5', 78), undefined, 'another xid is not ours');
});

test('frames: OFFER options shown (router, DNS, MTU 26, classless routes 121, lease time)', (t) => {
  const offer = dhcpDiscover({ mac: MAC, xid: 9 }).map((l): Layer => {
    if (l.layer !== 'dhcp') return l;
    return {
      ...l,
      op: 2,
      yiaddr: '10.9.100.10',
      options: [
        dhcpOption.messageType(2),
        dhcpOption.serverId('10.9.100.2'),
        dhcpOption.routers(['10.9.100.1']),
        dhcpOption.dnsServers(['10.9.100.2', '8.8.8.8']),
        dhcpOption.interfaceMtu(1450),
        dhcpOption.classlessRoutes([{ dest: '169.254.169.254/32', router: '10.9.100.2' }]),
        dhcpOption.leaseTime(86400),
        dhcpOption.end(),
      ],
    };
  });
  const s = offerSummary(decodeFrame(encodeFrame(offer)).layers);
  t.is(s?.yiaddr, '10.9.100.10');
  t.is(s?.server, '10.9.100.2');
  t.deepEqual(s?.router, ['10.9.100.1']);
  t.deepEqual(s?.dns, ['10.9.100.2', '8.8.8.8']);
  t.is(s?.mtu, 1450);
  t.deepEqual(s?.classlessRoutes, [{ destination: '169.254.169.254/32', gateway: '10.9.100.2' }]);
  t.is(s?.leaseTime, 86400);
});
