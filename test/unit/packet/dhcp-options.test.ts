/** Typed DHCP option accessors and builders, on the real dnsmasq ACK and by construction. */
import test from 'ava';
import {
  answers, arpReply, arpRequest, decodeFrame, describeDhcpOptions, dhcpDiscover, dhcpGet, dhcpMessageType, dhcpMessageTypeName, dhcpOption, dhcpOptionData,
  dhcpRelease, dhcpRequest, encodeFrame, findLayer, icmpEcho, probeFrame, summarize, vlanTags, type DhcpRepr, type Layer, WireError,
} from '../../../src/packet/index.js';
import { vectorFrames } from './vectors.js';

const ack = findLayer(decodeFrame(vectorFrames('dhcp-dhclient.pcap')[3]!).layers, 'dhcp')!;

test('typed accessors read the dnsmasq ACK (options configured in capture-vectors.sh)', (t) => {
  t.is(dhcpMessageType(ack), 5);
  t.is(dhcpMessageTypeName(dhcpMessageType(ack)), 'ACK');
  t.is(dhcpGet(ack, 'serverId'), '10.77.0.1');
  t.is(dhcpGet(ack, 'subnetMask'), '255.255.255.0');
  t.deepEqual(dhcpGet(ack, 'routers'), ['10.77.0.1']);
  t.deepEqual(dhcpGet(ack, 'dnsServers'), ['10.77.0.1']);
  t.is(dhcpGet(ack, 'leaseTime'), 3600);
  t.is(dhcpGet(ack, 'renewalTime'), 1800);
  t.is(dhcpGet(ack, 'rebindingTime'), 3150);
  t.is(dhcpGet(ack, 'interfaceMtu'), 1450);
  t.is(dhcpGet(ack, 'domainName'), 'lab.example');
  t.is(dhcpGet(ack, 'broadcastAddress'), '10.77.0.255');
  t.deepEqual(dhcpGet(ack, 'domainSearch'), ['lab.example', 'example.org']);
  t.is(dhcpGet(ack, 'hostname'), 'vm-dhclient');
  t.is(dhcpGet(ack, 'ntpServers'), undefined, 'absent option → undefined');
});

test('classless static routes (121): the bytes dnsmasq sent (recorded by dhclient in its lease file during an earlier capture run)', (t) => {
  // dhclient.leases: option unknown-121 20:a9:fe:a9:fe:a:4d:0:1:0:a:4d:0:1 — from
  // --dhcp-option=option:classless-static-route,169.254.169.254/32,10.77.0.1,0.0.0.0/0,10.77.0.1
  const d: DhcpRepr = { ...ack, options: [{ code: 121, data: '20a9fea9fe0a4d0001000a4d0001' }, dhcpOption.end()] };
  const routes = [
    { dest: '169.254.169.254/32', router: '10.77.0.1' },
    { dest: '0.0.0.0/0', router: '10.77.0.1' },
  ];
  t.deepEqual(dhcpGet(d, 'classlessRoutes'), routes);
  t.is(dhcpOption.classlessRoutes(routes).data, '20a9fea9fe0a4d0001000a4d0001');
});

test('client id and parameter request list from the udhcpc DISCOVER', (t) => {
  const d = findLayer(decodeFrame(vectorFrames('dhcp-udhcpc.pcap')[0]!).layers, 'dhcp')!;
  t.deepEqual(dhcpGet(d, 'clientId'), { type: 1, data: '02000a4d0063', mac: '02:00:0a:4d:00:63' });
  t.deepEqual(dhcpGet(d, 'paramRequestList')!.slice(0, 3), [1, 3, 6]);
  t.is(dhcpGet(d, 'vendorClassId'), 'udhcp 1.35.0');
  t.is(dhcpGet(d, 'maxMessageSize'), 576);
});

test('builders produce the same bytes the typed decoders read back, for every typed option', (t) => {
  const values = {
    subnetMask: '255.255.255.0', timeOffset: 3600, routers: ['10.0.0.1', '10.0.0.2'], dnsServers: ['10.0.0.53'], hostname: 'vm-1', domainName: 'example.org',
    interfaceMtu: 1450, broadcastAddress: '10.0.0.255', ntpServers: ['10.0.0.123'], vendorSpecific: '0102', requestedIp: '10.0.0.9', leaseTime: 86400, overload: 0,
    messageType: 3, serverId: '10.0.0.1', paramRequestList: [1, 3, 6, 121], message: 'no address', maxMessageSize: 1500, renewalTime: 43200, rebindingTime: 75600,
    vendorClassId: 'steth', clientId: { type: 1, data: '020000000001', mac: '02:00:00:00:00:01' }, tftpServer: '10.0.0.5', bootfileName: 'pxelinux.0',
    relayAgentInfo: [{ code: 1, data: '6574683031' }, { code: 2, data: '0a0b' }], domainSearch: ['a.example', 'b.example.org'],
    classlessRoutes: [{ dest: '10.1.0.0/16', router: '10.0.0.1' }, { dest: '0.0.0.0/0', router: '10.0.0.254' }],
  } as const;
  const options = Object.entries(values).map(([k, v]) => (dhcpOption as unknown as Record<string, (x: unknown) => { code: number; data?: string }>)[k]!(v));
  const repr: DhcpRepr = { ...ack, options: [...options, dhcpOption.end()] };
  const d = findLayer(decodeFrame(encodeFrame([{ layer: 'ethernet', dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', etherType: 0 }, { layer: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 0, ttl: 64, id: 1, df: false, mf: false, fragOffset: 0 }, { layer: 'udp', srcPort: 67, dstPort: 68 }, repr])).layers, 'dhcp')!;
  for (const [k, v] of Object.entries(values)) t.deepEqual(dhcpGet(d, k as keyof typeof values), v as unknown, k);
  t.is(describeDhcpOptions(d).length, Object.keys(values).length);
});

test('repeated instances are concatenated (RFC 3396) and long values split by dhcpOption.split', (t) => {
  const many = Array.from({ length: 70 }, (_, i) => `10.0.${i}.1`);
  const parts = dhcpOption.split('dnsServers', many);
  t.is(parts.length, 2);
  t.throws(() => dhcpOption.dnsServers(many), { instanceOf: WireError });
  const d: DhcpRepr = { ...ack, options: [...parts, dhcpOption.end()] };
  t.deepEqual(dhcpGet(d, 'dnsServers'), many);
});

test('option overload (52) reads options carried in file and sname', (t) => {
  const file = Buffer.alloc(128);
  file.set([3, 4, 10, 0, 0, 1, 255]);
  const sname = Buffer.alloc(64);
  sname.set([15, 3, 0x61, 0x62, 0x63, 255]);
  const d: DhcpRepr = { ...ack, options: [dhcpOption.messageType(5), dhcpOption.overload(3), dhcpOption.end()], fileRaw: file.toString('hex'), snameRaw: sname.toString('hex') };
  t.deepEqual(dhcpGet(d, 'routers'), ['10.0.0.1']);
  t.is(dhcpGet(d, 'domainName'), 'abc');
  const wire = encodeFrame([{ layer: 'ethernet', dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', etherType: 0 }, { layer: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 0, ttl: 64, id: 1, df: false, mf: false, fragOffset: 0 }, { layer: 'udp', srcPort: 67, dstPort: 68 }, d]);
  const back = findLayer(decodeFrame(wire).layers, 'dhcp')!;
  t.is(back.fileRaw, file.toString('hex'), 'overloaded areas round-trip raw');
  t.deepEqual(dhcpGet(back, 'routers'), ['10.0.0.1']);
});

test('DISCOVER builder: options 53, 61, 12, 55, 57 in that order, broadcast flag, VLAN tags', (t) => {
  const layers = dhcpDiscover({ mac: '02:00:00:00:00:01', xid: 0xdeadbeef, hostname: 'vm1', maxMessageSize: 1500, vlans: [{ vid: 200, tpid: 0x88a8 }, 100] });
  const f = decodeFrame(encodeFrame(layers));
  t.is(f.error, undefined);
  t.deepEqual(vlanTags(f.layers), [200, 100]);
  const d = findLayer(f.layers, 'dhcp')!;
  t.deepEqual(d.options.map((o) => o.code), [53, 61, 12, 55, 57, 255]);
  t.is(d.flags, 0x8000);
  t.is(d.xid, 0xdeadbeef);
  t.true(findLayer(f.layers, 'udp')!.checksumOk);
  t.regex(summarize(f.layers), /DHCP DISCOVER xid 0xdeadbeef/);
});

test('REQUEST and RELEASE builders carry 50/54 and ciaddr', (t) => {
  const rq = findLayer(decodeFrame(encodeFrame(dhcpRequest({ mac: '02:00:00:00:00:01', xid: 7, requestedIp: '10.0.0.9', serverId: '10.0.0.1' }))).layers, 'dhcp')!;
  t.is(dhcpMessageType(rq), 3);
  t.is(dhcpGet(rq, 'requestedIp'), '10.0.0.9');
  t.is(dhcpGet(rq, 'serverId'), '10.0.0.1');
  const rl = decodeFrame(encodeFrame(dhcpRelease({ mac: '02:00:00:00:00:01', xid: 8, clientIp: '10.0.0.9', serverId: '10.0.0.1', serverMac: '02:00:00:00:00:fe' })));
  const d = findLayer(rl.layers, 'dhcp')!;
  t.is(dhcpMessageType(d), 7);
  t.is(d.ciaddr, '10.0.0.9');
  t.is(d.flags, 0);
  t.is(findLayer(rl.layers, 'ipv4')!.dst, '10.0.0.1');
  t.is(findLayer(rl.layers, 'ethernet')!.dst, '02:00:00:00:00:fe');
});

test('answers(): DHCP by xid + chaddr, on the real udhcpc/dnsmasq exchange', (t) => {
  const fr = vectorFrames('dhcp-udhcpc.pcap').map((f) => decodeFrame(f).layers);
  const discover = fr[0]!;
  const offer = fr.find((l) => dhcpMessageType(findLayer(l, 'dhcp')!) === 2)!;
  t.true(answers(discover, offer));
  t.false(answers(offer, discover), 'a reply does not answer itself');
  const other = decodeFrame(vectorFrames('dhcp-dhclient.pcap')[1]!).layers; // dhclient's OFFER: other xid
  t.false(answers(discover, other));
});

test('answers(): ARP reply to the arping request, not to another target', (t) => {
  const fr = vectorFrames('arping.pcap').map((f) => decodeFrame(f).layers);
  t.true(answers(fr[0]!, fr[1]!));
  const req = decodeFrame(encodeFrame(arpRequest({ senderMac: '02:00:0a:4d:00:63', senderIp: '10.77.0.99', targetIp: '10.77.0.2' }))).layers;
  t.false(answers(req, fr[1]!));
  const rep = decodeFrame(encodeFrame(arpReply({ senderMac: '02:00:00:00:00:02', senderIp: '10.77.0.2', targetMac: '02:00:0a:4d:00:63', targetIp: '10.77.0.99' }))).layers;
  t.true(answers(req, rep));
});

test('answers(): ICMP echo by id/seq, and an ICMP error quoting the request', (t) => {
  const fr = vectorFrames('icmp.pcap').map((f) => decodeFrame(f).layers);
  t.true(answers(fr[0]!, fr[1]!));
  t.false(answers(fr[0]!, fr[3]!), 'seq 2 does not answer seq 1');
  t.true(answers(fr[8]!, fr[9]!), 'frag-needed answers the big DF ping');
  t.true(answers(fr[10]!, fr[11]!), 'time-exceeded answers the TTL 1 ping');
  t.false(answers(fr[0]!, fr[9]!), 'nor another ping');
  const mine = icmpEcho({ srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.0.0.1', dstIp: '10.0.0.2', id: 9, seq: 3 });
  const reply: Layer[] = decodeFrame(encodeFrame(mine)).layers.map((l) => (l.layer === 'icmp' ? { ...l, type: 0 } : l.layer === 'ipv4' ? { ...l, src: l.dst, dst: l.src } : l));
  t.true(answers(decodeFrame(encodeFrame(mine)).layers, decodeFrame(encodeFrame(reply)).layers));
});

test('answers(): probe by id (EtherType and UDP forms)', (t) => {
  const a = probeFrame({ srcMac: '02:00:00:00:00:01', origin: 'compute-1', probeId: '00112233445566ff', vlans: [100] });
  const b = probeFrame({ srcMac: '02:00:00:00:00:01', origin: 'compute-1', probeId: '00112233445566ff', udp: { srcIp: '10.0.0.1', dstIp: '10.0.0.2' } });
  const c = probeFrame({ srcMac: '02:00:00:00:00:01', origin: 'compute-1' });
  const d = (l: Layer[]): Layer[] => decodeFrame(encodeFrame(l)).layers;
  t.true(answers(d(a), d(b)));
  t.false(answers(d(a), d(c)));
  t.is(findLayer(d(b), 'udp')!.dstPort, 5899);
});
