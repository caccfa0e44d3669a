/** Host facts: ip -json report of lo, the ifconfig fallback parser, OVS via a private ovsdb-server. */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ifaceReport, ifaceExists, parseIfconfig, ifaceBriefs } from '../../../src/host/iface.js';
import { ovsSnapshot, listBridgePorts, findIfaceByPortId, assertOvsdb } from '../../../src/host/ovs.js';
import { run } from '../../../src/host/exec.js';
import { StethError } from '../../../src/errors.js';
import { hasTool } from '../../helpers/env.js';

test('ifaceReport(lo) from ip -json: loopback, up, 127.0.0.1/8, counters', async (t) => {
  const lo = await ifaceReport('lo');
  t.is(lo.name, 'lo');
  t.is(lo.linkType, 'loopback');
  t.true(lo.adminUp);
  t.true(lo.addresses.some((a) => a.family === 'inet' && a.address === '127.0.0.1' && a.prefix === 8));
  t.is(typeof lo.stats?.rxPackets, 'number');
  t.is(lo.source, 'iproute2');
  const all = await ifaceReport();
  t.true(all.some((r) => r.name === 'lo'));
  t.true((await ifaceBriefs()).some((b) => b.name === 'lo' && b.addresses.includes('127.0.0.1/8')));
});

test('a missing interface is ENOENT; a hostile name is EINVAL before anything runs', async (t) => {
  const e = await t.throwsAsync(ifaceReport('nosuch0'));
  t.is((e as StethError).code, 'ENOENT');
  t.false(await ifaceExists('nosuch0'));
  const e2 = await t.throwsAsync(ifaceReport('lo;reboot'));
  t.is((e2 as StethError).code, 'EINVAL');
});

test('ifconfig fallback parser (net-tools 2.x layout)', (t) => {
  const text = `eth1: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1450
        inet 10.1.0.5  netmask 255.255.255.0  broadcast 10.1.0.255
        inet6 fe80::f816:3eff:fe11:2233  prefixlen 64  scopeid 0x20<link>
        ether fa:16:3e:11:22:33  txqueuelen 1000  (Ethernet)
        RX packets 1200  bytes 345678 (337.5 KiB)
        RX errors 1  dropped 2  overruns 0  frame 0
        TX packets 800  bytes 98765 (96.4 KiB)
        TX errors 3  dropped 4 overruns 0  carrier 0  collisions 0

lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536
        inet 127.0.0.1  netmask 255.0.0.0
        loop  txqueuelen 1000  (Local Loopback)
        RX packets 0  bytes 0 (0.0 B)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 0  bytes 0 (0.0 B)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0
`;
  const [eth1, lo] = parseIfconfig(text);
  t.is(eth1!.name, 'eth1');
  t.is(eth1!.mtu, 1450);
  t.is(eth1!.mac, 'fa:16:3e:11:22:33');
  t.deepEqual(eth1!.addresses[0], { family: 'inet', address: '10.1.0.5', prefix: 24 });
  t.deepEqual(eth1!.stats, { rxPackets: 1200, rxBytes: 345678, rxErrors: 1, rxDropped: 2, txPackets: 800, txBytes: 98765, txErrors: 3, txDropped: 4 });
  t.is(eth1!.source, 'ifconfig');
  t.is(lo!.linkType, 'loopback');
  t.is(lo!.addresses[0]!.prefix, 8);
});

test('OVSDB remotes are validated', (t) => {
  t.is(assertOvsdb('unix:/run/openvswitch/db.sock'), 'unix:/run/openvswitch/db.sock');
  t.is(assertOvsdb('tcp:10.0.0.1:6640'), 'tcp:10.0.0.1:6640');
  for (const bad of ['unix:db.sock', 'unix:/x;rm -rf /', 'punix:/x', '--db=x', 'tcp:1.2.3.4']) t.throws(() => assertOvsdb(bad));
});

(hasTool('ovsdb-server') ? test : test.skip)('OVS facts from a private ovsdb-server: ports of a bridge, find by iface-id, missing bridge', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'steth-ovs-'));
  const db = `unix:${join(d, 'db.sock')}`;
  await run('ovsdb-tool', ['create', join(d, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  await run('ovsdb-server', [join(d, 'conf.db'), `--remote=p${db}`, `--pidfile=${join(d, 'pid')}`, `--unixctl=${join(d, 'ctl')}`, '--detach', `--log-file=${join(d, 'log')}`]);
  const pid = Number(readFileSync(join(d, 'pid'), 'utf8').trim());
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
    rmSync(d, { recursive: true, force: true });
  });
  const v = (args: string[]) => run('ovs-vsctl', [`--db=${db}`, '--no-wait', ...args]);
  await v(['add-br', 'br-int']);
  await v(['add-port', 'br-int', 'qvo12345678-90', 'tag=3', '--', 'set', 'interface', 'qvo12345678-90', 'external_ids:iface-id=12345678-90ab-4def-8123-456789abcdef']);
  await v(['add-port', 'br-int', 'int-br-eth1', 'trunks=100,101', '--', 'set', 'interface', 'int-br-eth1', 'type=patch', 'options:peer=phy-br-eth1']);
  await v(['add-br', 'br-eth1']);
  const snap = await ovsSnapshot(db);
  t.deepEqual(snap.bridges.map((b) => b.name), ['br-eth1', 'br-int']);
  const ports = await listBridgePorts(db, 'br-int');
  t.deepEqual(ports.map((p) => p.name), ['br-int', 'int-br-eth1', 'qvo12345678-90']);
  const qvo = ports.find((p) => p.name === 'qvo12345678-90')!;
  t.is(qvo.tag, 3);
  t.is(qvo.externalIds['iface-id'], '12345678-90ab-4def-8123-456789abcdef');
  const patch = ports.find((p) => p.name === 'int-br-eth1')!;
  t.deepEqual(patch.trunks, [100, 101]);
  t.is(patch.type, 'patch');
  t.is(patch.tag, null);
  const found = await findIfaceByPortId(db, '1234567890AB4DEF8123456789ABCDEF');
  t.is(found?.name, 'qvo12345678-90');
  t.is(found?.bridge, 'br-int');
  t.is(await findIfaceByPortId(db, '00000000-0000-4000-8000-000000000000'), undefined);
  const e = await t.throwsAsync(listBridgePorts(db, 'br-nope'));
  t.is((e as StethError).code, 'ENOENT');
  t.regex((e as StethError).hint!, /br-eth1, br-int/);
  const e2 = await t.throwsAsync(ovsSnapshot(`unix:${join(d, 'nothere.sock')}`, { timeoutSec: 1 }));
  t.is((e2 as StethError).code, 'ETOOL');
  t.regex((e2 as StethError).hint!, /ovsdb-server running/);
});
