/**
 * The OpenStack lab tier's pure parts: the plan (names, addresses, what the CLI
 * and probes read) and the rendered configuration files carrying the settings
 * measured on this machine (shared/DESIGN.md "Facts: a real OpenStack
 * networking control plane").
 */
import test from 'ava';
import { assertIfName, assertNetnsName } from '../../../src/validate.js';
import {
  agentNeutronConf, cloudsYaml, dhcpAgentConf, keystoneUwsgiIni, ml2Conf, neutronServerConf, ovsAgentConf, rabbitEnv,
} from '../../../src/lab/openstack/conf.js';
import { planOpenstackLab } from '../../../src/lab/openstack/up.js';
import { PRESEED } from '../../../src/lab/openstack/install.js';
import { credentialsFromCloudsYaml } from '../../../src/openstack/credentials.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const has = (text: string, line: string): boolean => text.split('\n').includes(line);

test('plan: two nodes named as Neutron hosts, valid namespace and link names, addresses in 10.X.0.0/24', (t) => {
  const s = planOpenstackLab('abcdefgh', '/run/steth-lab', 77, {});
  t.deepEqual(s.nodes.map((n) => [n.name, n.host, n.role]), [['network-1', 'network-1', 'network'], ['compute-2', 'compute-2', 'compute']]);
  for (const ns of s.netnsList) t.notThrows(() => assertNetnsName(ns));
  t.notThrows(() => assertIfName(s.root.iface));
  t.is(s.root.address, '10.77.0.254');
  t.deepEqual(s.nodes.map((n) => n.agentUrl), ['http://10.77.0.1:9698/', 'http://10.77.0.2:9698/']);
  t.is(s.authUrl, 'http://10.77.0.1:5000/v3');
  t.is(s.neutronUrl, 'http://10.77.0.1:9696');
  t.is(s.kind, 'openstack');
  t.is(s.phase, 'partial');
  t.regex(s.token, /^[0-9a-f]{48}$/);
});

test('neutron-server: loopback API, one RPC worker, no nova notifications, MariaDB over the unix socket', (t) => {
  const c = neutronServerConf({ host: 'network-1', transportUrl: 'rabbit://guest:guest@127.0.0.1:5672/', stateDir: '/s', lockDir: '/l', log: '/log', mysqlSocket: '/m/mysqld.sock', keystonePassword: 'pw' });
  for (const l of ['bind_host = 127.0.0.1', 'bind_port = 9696', 'api_workers = 0', 'rpc_workers = 1', 'rpc_state_report_workers = 0',
    'notify_nova_on_port_status_changes = false', 'notify_nova_on_port_data_changes = false', 'service_plugins = ', 'host = network-1',
    'connection = mysql+pymysql://root@localhost/neutron?unix_socket=/m/mysqld.sock', 'root_helper = env']) {
    t.true(has(c, l), l);
  }
});

test('ml2: vlan tenant networks on physnet1 with the lab range, openvswitch mechanism', (t) => {
  const c = ml2Conf({ vlanLow: 100, vlanHigh: 199 });
  t.true(has(c, 'type_drivers = vlan,vxlan,flat'));
  t.true(has(c, 'tenant_network_types = vlan'));
  t.true(has(c, 'mechanism_drivers = openvswitch'));
  t.true(has(c, 'network_vlan_ranges = physnet1:100:199'));
});

test('agents: root_helper env, netdev datapath, private ovsdb socket, loopback OpenFlow listener, dnsmasq conf + logs', (t) => {
  const a = agentNeutronConf({ host: 'compute-2', transportUrl: 'rabbit://guest:guest@10.1.0.1:5672/', stateDir: '/s', lockDir: '/l', log: '/log' });
  t.true(has(a, 'root_helper = env'));
  t.true(has(a, 'host = compute-2'));
  t.false(a.includes('[database]'));
  const o = ovsAgentConf({ ovsdb: 'unix:/x/db.sock', physBridge: 'br-phys', ofPort: 6633 });
  for (const l of ['datapath_type = netdev', 'bridge_mappings = physnet1:br-phys', 'ovsdb_connection = unix:/x/db.sock', 'of_listen_address = 127.0.0.1']) t.true(has(o, l), l);
  const d = dhcpAgentConf({ ovsdb: 'unix:/x/db.sock', dnsmasqConf: '/x/dnsmasq.conf', dnsmasqLogDir: '/x/logs' });
  for (const l of ['interface_driver = openvswitch', 'dnsmasq_config_file = /x/dnsmasq.conf', 'ovsdb_connection = unix:/x/db.sock']) t.true(has(d, l), l);
});

test('keystone under uwsgi: loopback, 2 processes x 1 thread, Connection: close, config via OS_KEYSTONE_CONFIG_FILES', (t) => {
  const u = keystoneUwsgiIni({ conf: '/k/keystone.conf', pidfile: '/k/pid', log: '/k/log', chdir: '/k' });
  for (const l of ['http-socket = 127.0.0.1:5000', 'processes = 2', 'threads = 1', 'add-header = Connection: close', 'env = OS_KEYSTONE_CONFIG_FILES=/k/keystone.conf']) t.true(has(u, l), l);
});

test('rabbit env: rabbit@localhost on 127.0.0.1, state and pid in the lab dir', (t) => {
  const e = rabbitEnv({ dir: '/r' });
  for (const l of ['NODENAME=rabbit@localhost', 'NODE_IP_ADDRESS=127.0.0.1', 'NODE_PORT=5672', 'MNESIA_BASE=/r/mnesia', 'PID_FILE=/r/rabbit.pid']) t.true(has(e, l), l);
});

test('debconf preseed turns off every postinst configuration step', (t) => {
  for (const q of ['keystone/configure_db', 'keystone/create-admin-tenant', 'keystone/register-endpoint', 'neutron/configure_db', 'neutron/configure_rabbit', 'neutron/configure_ksat', 'neutron/configure_nova', 'neutron/configure_api-endpoint']) {
    t.true(PRESEED.some((l) => l.includes(` ${q} boolean false`)), q);
  }
});

test('the generated clouds.yaml is read back by the credential loader (password quoted)', (t) => {
  const d = mkdtempSync(join(tmpdir(), 'steth-os-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const f = join(d, 'clouds.yaml');
  writeFileSync(f, cloudsYaml({ cloud: 'steth-lab-x', authUrl: 'http://10.7.0.1:5000/v3', password: '-a:b#c"\\x' }));
  const c = credentialsFromCloudsYaml('steth-lab-x', { files: [f] });
  t.like(c, { authUrl: 'http://10.7.0.1:5000/v3', username: 'admin', projectName: 'admin', regionName: 'RegionOne', interface: 'public' });
  t.is(c.secret, '-a:b#c"\\x');
});
