/**
 * `steth lab up --openstack`: a real Neutron control plane from Debian's packages,
 * configured and started by hand in the lab dir, inside the lab's namespaces,
 * bound to loopback. Start order (shared/DESIGN.md facts):
 *
 *   namespaces, links, relay │ mariadb │ epmd → rabbit │ keystone db_sync+bootstrap │ 2 OVS pairs + br-phys
 *   → uwsgi keystone → service project, neutron user, endpoints (via the API)
 *   → neutron-db-manage upgrade head → neutron-server
 *   → agents only when q-plugin and q-reports-plugin have consumers
 *   → network/subnet only when both OVS agents and the DHCP agent are alive
 *   → ports (binding:host_id) → plugged as os-vif does → ACTIVE → steth agents
 *
 * The state file is saved after every stage; a failure runs `down` on it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AGENT_NODE_FLAGS } from '../../../agent/node-flags.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StethError } from '../../errors.js';
import { run } from '../../host/exec.js';
import { KeystoneSession } from '../../openstack/keystone.js';
import { credentialsFromCloudsYaml } from '../../openstack/credentials.js';
import { NeutronClient, type Agent } from '../../openstack/neutron.js';
import { ipBatch, startOvsdb, startVswitchd, vsctl, waitTcp } from '../host.js';
import { assertPrefix, DEFAULT_BASE_DIR } from '../spec.js';
import { reserveOctet, saveState as saveLabState, releaseOctet } from '../state.js';
import type { LabNetwork, LabPort, LabState } from '../types.js';
import {
  agentNeutronConf, cloudsYaml, dhcpAgentConf, keystoneConf, keystoneUwsgiIni, ml2Conf, neutronServerConf, ovsAgentConf, rabbitConf, rabbitEnv,
  KEYSTONE_PORT, NEUTRON_PORT, RABBIT_PORT,
} from './conf.js';
import { ensurePackages } from './install.js';
import { alive, startIn, SYSTEM_PATH, waitFor } from './procs.js';
import type { OpenstackLabNode, OpenstackLabState, OpenstackUpOptions } from './types.js';

export const DEFAULT_OPENSTACK_PREFIX = 'sto';
const here = dirname(fileURLToPath(import.meta.url));
export const relayScript = (): string => join(here, 'relay.js');
export const agentScript = (): string => resolve(here, '..', '..', '..', 'bin', 'steth-agent.js');

const PY_ENV = { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' };

let saving: Promise<void> = Promise.resolve();

/** Same file and atomic write as the emulated lab (state.json in the lab dir); one write at a
 *  time, since parallel stages save concurrently and share the temporary file. */
export function saveState(s: OpenstackLabState): Promise<void> {
  const next = saving.catch(() => undefined).then(() => saveLabState(s as unknown as LabState));
  saving = next;
  return next;
}

function secret(): string {
  return randomBytes(18).toString('base64url');
}

/** Plan every name and address (nothing is created). */
export function planOpenstackLab(prefix: string, baseDir: string, octet: number, opts: OpenstackUpOptions): OpenstackLabState {
  const X = octet;
  const dir = join(baseDir, prefix);
  const port = opts.agentPort ?? 9698;
  const ctl = `${prefix}-ctl`;
  const c2 = `${prefix}-c2`;
  const mk = (name: string, role: 'network' | 'compute', netns: string, i: number, mgmtIface: string): OpenstackLabNode => {
    const rundir = join(dir, name);
    const mgmt = `10.${X}.0.${i}`;
    return {
      name, host: name, role, netns, rundir, ovsdb: `unix:${join(rundir, 'db.sock')}`, agentUrl: `http://${mgmt}:${port}/`,
      pids: { ovsdb: 0, vswitchd: 0 },
      addresses: { mgmt, net: mgmt, storage: mgmt },
      nics: { mgmt: mgmtIface, net: 'eth1', storage: mgmtIface },
      underlay: '', underlayIface: '', localVlans: {},
      ofPorts: { intToPhys: 'int-br-phys', physToInt: 'phy-br-phys', intToTun: '', tunToInt: '', vxlan: {} },
      physBridge: 'br-phys',
    };
  };
  const nodes = [mk('network-1', 'network', ctl, 1, 'mgmt'), mk('compute-2', 'compute', c2, 2, 'eth0')];
  return {
    version: 1, kind: 'openstack', prefix, dir,
    configPath: join(dir, 'steth.conf'), token: randomBytes(24).toString('hex'), tokenFile: join(dir, 'token'),
    octet: X, createdAt: new Date().toISOString(), phase: 'partial',
    cloudsYaml: join(dir, 'clouds.yaml'), cloud: `steth-lab-${prefix}`,
    authUrl: `http://10.${X}.0.1:${KEYSTONE_PORT}/v3`, neutronUrl: `http://10.${X}.0.1:${NEUTRON_PORT}`,
    ctlNetns: ctl,
    root: { iface: `${prefix}-os`, address: `10.${X}.0.254` },
    nodes, networks: [], ports: [], trunkedVlans: [],
    netnsList: [ctl, c2], services: [], extraPids: [], faults: [], timings: {},
  };
}

/** Records when each stage finished, in seconds since the start of `up` (stages overlap). */
class Stage {
  private readonly t0 = Date.now();
  constructor(private readonly s: OpenstackLabState, private readonly log: (l: string) => void, private readonly failAt?: string) {}
  mark(name: string): void {
    const at = (Date.now() - this.t0) / 1000;
    this.s.timings[name] = at;
    this.log(`${name} done at ${at.toFixed(1)} s`);
    if (this.failAt === name) throw new StethError('EFAULT', `failing on purpose after stage '${name}' (failAt)`);
  }
}

export async function openstackUp(opts: OpenstackUpOptions = {}): Promise<OpenstackLabState> {
  if (process.getuid?.() !== 0) throw new StethError('EPERM', 'steth lab up --openstack needs root (namespaces, OVS, daemons)', { hint: 'run as root' });
  const prefix = assertPrefix(opts.prefix ?? DEFAULT_OPENSTACK_PREFIX);
  const baseDir = opts.baseDir ?? DEFAULT_BASE_DIR;
  const log = opts.log ?? ((): void => undefined);
  const [vlanLow, vlanHigh] = opts.vlanRange ?? [100, 199];
  const segId = opts.segmentationId ?? vlanLow;
  if (!(vlanLow >= 1 && vlanHigh <= 4094 && vlanLow <= vlanHigh && segId >= vlanLow && segId <= vlanHigh)) {
    throw new StethError('EINVAL', `VLAN range ${vlanLow}..${vlanHigh} / segmentation id ${segId} is not valid`);
  }
  const { openstackDown } = await import('./down.js');
  if (existsSync(join(baseDir, prefix, 'state.json'))) {
    // an older lab of this prefix, emulated or OpenStack: the lab's down handles both
    const { labDown } = await import('../down.js');
    await labDown(prefix, { baseDir });
  }

  const t0 = Date.now();
  let installSeconds = 0;
  if (opts.install !== false) installSeconds = (await ensurePackages(log)).seconds;

  const octet = await reserveOctet(prefix, baseDir, opts.octet);
  const s = planOpenstackLab(prefix, baseDir, octet, opts);
  s.timings.install = installSeconds;
  const stage = new Stage(s, log, opts.failAt);
  try {
    await mkdir(s.dir, { recursive: true, mode: 0o700 });
    await writeFile(s.tokenFile, `${s.token}\n`, { mode: 0o600 });
    await saveState(s);
    await buildPlane(s, { vlanLow, vlanHigh, segId, opts, log, stage });
    s.timings.total_up = (Date.now() - t0) / 1000 - installSeconds;
    s.phase = 'up';
    await saveState(s);
    return s;
  } catch (e) {
    if (opts.keepOnFailure) throw e;
    log(`up failed: ${(e as Error).message}; removing what was built`);
    await openstackDown(prefix, { baseDir }).catch(() => undefined);
    await releaseOctet(prefix, baseDir, octet).catch(() => undefined);
    throw e;
  }
}

interface BuildCtx {
  vlanLow: number;
  vlanHigh: number;
  segId: number;
  opts: OpenstackUpOptions;
  log: (l: string) => void;
  stage: Stage;
}

function service(s: OpenstackLabState, name: string, netns: string, cmd: string, args: string[], env: Record<string, string> = {}, hostMounts = false): number {
  const logFile = join(s.dir, 'logs', `${name}.out`);
  const pid = startIn(netns, cmd, args, logFile, env, { hostMounts });
  s.services.push({ name, netns, pid, log: logFile });
  return pid;
}

async function buildPlane(s: OpenstackLabState, c: BuildCtx): Promise<void> {
  const ctl = s.ctlNetns;
  const [n1, n2] = s.nodes as [OpenstackLabNode, OpenstackLabNode];
  const X = s.octet;
  const d = (...p: string[]): string => join(s.dir, ...p);
  await Promise.all(['logs', 'mysql', 'rabbit', 'keystone', 'neutron', 'neutron/lock', n1.rundir, n2.rundir].map((p) => mkdir(p.startsWith('/') ? p : d(p), { recursive: true, mode: 0o700 })));

  // ── namespaces and links ──
  await ipBatch([
    `netns add ${ctl}`, `netns add ${n2.netns}`,
    `link add ${s.root.iface} type veth peer name m-root netns ${ctl}`,
    `link add m-c2 netns ${ctl} type veth peer name eth0 netns ${n2.netns}`,
    `link add eth1 netns ${ctl} type veth peer name eth1 netns ${n2.netns}`,
  ]);
  await saveState(s);
  await Promise.all([
    ipBatch(['link set lo up', 'link add mgmt type bridge', 'link set m-root master mgmt up', 'link set m-c2 master mgmt up',
      `addr add 10.${X}.0.1/24 dev mgmt`, 'link set mgmt up', 'link set eth1 up'], { netns: ctl }),
    ipBatch(['link set lo up', `addr add 10.${X}.0.2/24 dev eth0`, 'link set eth0 up', 'link set eth1 up'], { netns: n2.netns }),
    ipBatch([`addr add ${s.root.address}/24 dev ${s.root.iface}`, `link set ${s.root.iface} up`]),
  ]);
  for (const ns of [ctl, n2.netns]) await run('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { netns: ns, allowFail: true });
  const mgmt1 = n1.addresses.mgmt;
  service(s, 'relay', ctl, process.execPath, [relayScript(),
    `${mgmt1}:${KEYSTONE_PORT}=127.0.0.1:${KEYSTONE_PORT}`, `${mgmt1}:${NEUTRON_PORT}=127.0.0.1:${NEUTRON_PORT}`, `${mgmt1}:${RABBIT_PORT}=127.0.0.1:${RABBIT_PORT}`]);
  await saveState(s);
  c.stage.mark('namespaces');

  const keystonePassword = secret();
  const adminPassword = secret();

  // ── in parallel: mariadb + neutron schema, rabbit, keystone db, OVS pairs ──
  const mysqlSock = d('mysql', 'mysqld.sock');
  const nconf = d('neutron', 'neutron.conf');
  const ml2 = d('neutron', 'ml2_conf.ini');
  await writeFile(nconf, neutronServerConf({
    host: n1.host, transportUrl: `rabbit://guest:guest@127.0.0.1:${RABBIT_PORT}/`, stateDir: d('neutron', 'server-state'), lockDir: d('neutron', 'lock'),
    log: d('logs', 'neutron-server.log'), mysqlSocket: mysqlSock, keystonePassword,
  }), { mode: 0o600 });
  await writeFile(ml2, ml2Conf({ vlanLow: c.vlanLow, vlanHigh: c.vlanHigh }));
  const mysql = (async () => {
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${d('mysql', 'data')}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'], { netns: ctl, timeoutMs: 300_000, env: PY_ENV });
    const pid = service(s, 'mariadb', ctl, '/usr/sbin/mariadbd', ['--no-defaults', `--datadir=${d('mysql', 'data')}`, `--socket=${mysqlSock}`, `--pid-file=${d('mysql', 'mysqld.pid')}`,
      '--skip-networking', '--user=root', `--log-error=${d('logs', 'mariadb.log')}`, '--innodb-buffer-pool-size=64M', '--max-connections=100', '--performance-schema=OFF']);
    await waitFor('mariadb accepting on its socket', () => unixGreets(mysqlSock), { timeoutMs: 300_000, alive: () => alive(pid), hint: `see ${d('logs', 'mariadb.log')}` });
    await run('mariadb', ['--no-defaults', `--socket=${mysqlSock}`, '-u', 'root', '-e', 'CREATE DATABASE neutron CHARACTER SET utf8mb4'], { netns: ctl });
    c.stage.mark('mariadb');
    await run('neutron-db-manage', ['--config-file', nconf, '--config-file', ml2, 'upgrade', 'head'], { netns: ctl, env: PY_ENV, timeoutMs: 300_000 });
    c.stage.mark('neutron-db');
  })();

  const rabbitEnvFile = d('rabbit', 'rabbitmq-env.conf');
  const rabbitCtlEnv = { ...PY_ENV, HOME: d('rabbit'), RABBITMQ_CONF_ENV_FILE: rabbitEnvFile, ERL_EPMD_ADDRESS: '127.0.0.1' };
  const rabbit = (async () => {
    await writeFile(rabbitEnvFile, rabbitEnv({ dir: d('rabbit') }));
    await writeFile(d('rabbit', 'rabbitmq.conf'), rabbitConf());
    await writeFile(d('rabbit', 'enabled_plugins'), '[].\n');
    await writeFile(d('rabbit', 'advanced.config'), '[].\n');
    await writeFile(d('rabbit', '.erlang.cookie'), `${randomBytes(16).toString('hex').toUpperCase()}\n`, { mode: 0o400 });
    service(s, 'epmd', ctl, 'epmd', ['-address', '127.0.0.1'], {});
    await saveState(s);
    const pid = service(s, 'rabbitmq', ctl, '/usr/lib/rabbitmq/bin/rabbitmq-server', [], rabbitCtlEnv);
    await saveState(s);
    await waitFor('rabbitmq answering AMQP', () => amqpGreets(mgmt1, RABBIT_PORT), { timeoutMs: 300_000, stepMs: 300, alive: () => alive(pid), hint: `see ${d('rabbit', 'log')}` });
    c.stage.mark('rabbitmq');
  })();

  const kconf = d('keystone', 'keystone.conf');
  const kdb = d('keystone', 'keystone.db');
  const keystoneDb = (async () => {
    await writeFile(kconf, keystoneConf({ dir: d('keystone'), db: kdb, fernetKeys: d('keystone', 'fernet-keys'), credentialKeys: d('keystone', 'credential-keys'), log: d('logs', 'keystone.log') }), { mode: 0o600 });
    // WAL before db_sync: uwsgi workers and keystone-manage otherwise lock each other out
    await run('/usr/bin/python3', ['-c', 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchall()', kdb], { env: PY_ENV });
    const km = (args: string[]): Promise<unknown> => run('keystone-manage', ['--config-file', kconf, ...args], { netns: ctl, env: PY_ENV, timeoutMs: 300_000 });
    await km(['db_sync']);
    await Promise.all([
      km(['fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root']),
      km(['credential_setup', '--keystone-user', 'root', '--keystone-group', 'root']),
    ]);
    await km(['bootstrap', '--bootstrap-password', adminPassword, '--bootstrap-username', 'admin', '--bootstrap-project-name', 'admin',
      '--bootstrap-role-name', 'admin', '--bootstrap-service-name', 'keystone', '--bootstrap-region-id', 'RegionOne',
      '--bootstrap-admin-url', `http://127.0.0.1:${KEYSTONE_PORT}/v3`, '--bootstrap-internal-url', `http://127.0.0.1:${KEYSTONE_PORT}/v3`,
      '--bootstrap-public-url', s.authUrl]);
    const uw = d('keystone', 'uwsgi.ini');
    await writeFile(uw, keystoneUwsgiIni({ conf: kconf, pidfile: d('keystone', 'uwsgi.pid'), log: d('logs', 'keystone-uwsgi.log'), chdir: d('keystone') }));
    const pid = service(s, 'keystone', ctl, '/usr/bin/uwsgi', ['--ini', uw], { ...PY_ENV, OS_KEYSTONE_CONFIG_FILES: kconf });
    await saveState(s);
    await waitFor('keystone answering on :5000', () => httpOk(`http://${mgmt1}:${KEYSTONE_PORT}/v3`), { timeoutMs: 300_000, stepMs: 300, alive: () => alive(pid), hint: `see ${d('logs', 'keystone-uwsgi.log')}` });
    c.stage.mark('keystone');
  })();

  const ovs = settleAll(s.nodes.map(async (n) => {
    n.pids.ovsdb = await startOvsdb(n.netns, n.rundir);
    await vsctl(n.rundir, ['--', 'init', '--', 'set', 'Open_vSwitch', '.', 'other_config:n-handler-threads=1', 'other_config:n-revalidator-threads=1',
      `external_ids:hostname=${n.host}`,
      '--', 'add-br', n.physBridge, '--', 'set', 'Bridge', n.physBridge, 'datapath_type=netdev', 'protocols=OpenFlow10,OpenFlow13',
      '--', 'add-port', n.physBridge, n.nics.net], { noWait: true });
    n.pids.vswitchd = await startVswitchd(n.netns, n.rundir);
    await vsctl(n.rundir, ['--', 'set', 'Open_vSwitch', '.', 'external_ids:steth-lab=ready']);
    await saveState(s);
  })).then(() => c.stage.mark('ovs'));

  // ── Keystone's objects for neutron (once keystone answers) in parallel with neutron-server and
  //    the agents (once mariadb has the schema, rabbit answers and OVS runs): neutron-server checks
  //    tokens only when a request comes, so it need not wait for Keystone ──
  const keystoneReady = keystoneDb.then(async () => {
    await writeFile(s.cloudsYaml, cloudsYaml({ cloud: s.cloud, authUrl: s.authUrl, password: adminPassword }), { mode: 0o600 });
    const session = new KeystoneSession(credentialsFromCloudsYaml(s.cloud, { files: [s.cloudsYaml] }), { timeoutMs: 30_000 });
    await registerNeutron(session, s, keystonePassword);
    c.stage.mark('keystone-objects');
    return session;
  });
  const neutronReady = settleAll([mysql, rabbit, ovs]).then(async () => {
    // ── neutron-server ──
    const nsPid = service(s, 'neutron-server', ctl, '/usr/bin/neutron-server', ['--config-file', nconf, '--config-file', ml2], PY_ENV);
    await saveState(s);
    await waitFor('neutron-server answering on :9696', () => httpOk(`${s.neutronUrl}/`), { timeoutMs: 300_000, stepMs: 300, alive: () => alive(nsPid), hint: `see ${d('logs', 'neutron-server.log')}` });
    await waitFor('neutron-server consuming q-plugin and q-reports-plugin', async () => {
      const r = await run('/usr/lib/rabbitmq/bin/rabbitmqctl', ['-n', 'rabbit@localhost', '-q', 'list_queues', 'name', 'consumers'], { netns: ctl, env: rabbitCtlEnv, timeoutMs: 30_000, allowFail: true });
      const consumers = new Map(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2).map((p) => [p[0]!, Number(p[1])]));
      return (consumers.get('q-plugin') ?? 0) > 0 && (consumers.get('q-reports-plugin') ?? 0) > 0 ? true : undefined;
    }, { timeoutMs: 300_000, stepMs: 500, alive: () => alive(nsPid), hint: `see ${d('logs', 'neutron-server.log')}` });
    c.stage.mark('neutron-server');

    // ── agents ──
    for (const n of s.nodes) {
      const ndir = n.rundir;
      const transport = n === n1 ? `rabbit://guest:guest@127.0.0.1:${RABBIT_PORT}/` : `rabbit://guest:guest@${mgmt1}:${RABBIT_PORT}/`;
      await mkdir(join(ndir, 'lock'), { recursive: true });
      const agentConf = (name: string): string => agentNeutronConf({ host: n.host, transportUrl: transport, stateDir: join(ndir, 'state'), lockDir: join(ndir, 'lock'), log: d('logs', `${name}-${n.name}.log`) });
      await writeFile(join(ndir, 'neutron-ovs.conf'), agentConf('ovs-agent'), { mode: 0o600 });
      await writeFile(join(ndir, 'openvswitch_agent.ini'), ovsAgentConf({ ovsdb: n.ovsdb, physBridge: n.physBridge, ofPort: 6633 }));
      const ovsEnv = { ...PY_ENV, OVS_RUNDIR: n.rundir, OVS_DBDIR: n.rundir, OVS_LOGDIR: n.rundir };
      service(s, `ovs-agent-${n.name}`, n.netns, '/usr/bin/neutron-openvswitch-agent',
        ['--config-file', join(ndir, 'neutron-ovs.conf'), '--config-file', join(ndir, 'openvswitch_agent.ini')], ovsEnv);
      if (n === n1) {
        await writeFile(join(ndir, 'neutron-dhcp.conf'), agentConf('dhcp-agent'), { mode: 0o600 });
        await writeFile(join(ndir, 'dnsmasq.conf'), 'user=root\ngroup=root\n');
        await mkdir(d('logs', 'dnsmasq'), { recursive: true });
        await writeFile(join(ndir, 'dhcp_agent.ini'), dhcpAgentConf({ ovsdb: n.ovsdb, dnsmasqConf: join(ndir, 'dnsmasq.conf'), dnsmasqLogDir: d('logs', 'dnsmasq') }));
        // host mounts: the qdhcp-* namespaces it creates must be visible to the steth agents
        service(s, `dhcp-agent-${n.name}`, n.netns, '/usr/bin/neutron-dhcp-agent',
          ['--config-file', join(ndir, 'neutron-dhcp.conf'), '--config-file', join(ndir, 'dhcp_agent.ini')], ovsEnv, true);
      }
    }
    await saveState(s);
  });
  // allSettled: a failed stage must not leave its siblings starting daemons while `down` runs
  await settleAll([keystoneReady, neutronReady]);
  const adminSession = await keystoneReady;
  const neutron = new NeutronClient(adminSession, { timeoutMs: 30_000, endpoint: s.neutronUrl });
  await waitFor('both OVS agents and the DHCP agent alive in Neutron', async () => {
    const agents = await neutron.listAgents();
    const up = (type: string, host: string): Agent | undefined => agents.find((a) => a.agent_type === type && a.host === host && a.alive);
    return up('Open vSwitch agent', n1.host) && up('Open vSwitch agent', n2.host) && up('DHCP agent', n1.host) ? true : undefined;
  }, { timeoutMs: 300_000, stepMs: 500, hint: `see ${d('logs')}/*-agent-*.log` });
  c.stage.mark('agents');

  // ── network, subnet, ports (through the Neutron API) ──
  const net = await neutron.createNetwork({
    name: `${s.prefix}-vlan-net`, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': c.segId,
  });
  s.netnsList.push(`qdhcp-${net.id}`);
  const cidr = `10.${X}.100.0/24`;
  const subnet = await neutron.createSubnet({
    network_id: net.id, name: `${s.prefix}-vlan-subnet`, cidr, ip_version: 4, gateway_ip: `10.${X}.100.1`, enable_dhcp: true,
    allocation_pools: [{ start: `10.${X}.100.2`, end: `10.${X}.100.200` }],
  });
  const labNet: LabNetwork = {
    id: net.id, name: net.name ?? '', type: 'vlan', segmentationId: c.segId, physicalNetwork: 'physnet1', cidr, gateway: subnet.gateway_ip ?? `10.${X}.100.1`,
    mtu: net.mtu ?? 1500, localVlan: {},
    dhcp: { node: n1.name, netns: `qdhcp-${net.id}`, iface: '', mac: '', ip: '', portId: '', hostsFile: join(n1.rundir, 'state', 'dhcp', net.id, 'host') },
  };
  s.networks.push(labNet);
  await saveState(s);

  const vmNodes = c.opts.vms ?? [n2.name, n1.name];
  const ports: LabPort[] = [];
  for (const [i, nodeName] of vmNodes.entries()) {
    const node = s.nodes.find((n) => n.name === nodeName);
    if (!node) throw new StethError('EINVAL', `no node '${nodeName}' in the OpenStack lab (nodes: ${s.nodes.map((n) => n.name).join(', ')})`);
    const vmUuid = randomUUID();
    const p = await neutron.createPort({
      network_id: net.id, name: `${s.prefix}-vm${i + 1}`, 'binding:host_id': node.host, device_owner: 'compute:nova', device_id: vmUuid,
    });
    const lp: LabPort = {
      id: p.id, mac: p.mac_address.toLowerCase(), ip: p.fixed_ips[0]?.ip_address ?? '', node: node.name, networkId: net.id, hybrid: false,
      vmNetns: `${s.prefix}-vm${i + 1}`, vmIface: 'eth0', devices: { tap: `tap${p.id.slice(0, 11)}` }, vmUuid,
    };
    ports.push(lp);
    s.ports.push(lp);
    s.netnsList.push(lp.vmNetns);
    await saveState(s);
    await plugLikeOsVif(s, node, lp, labNet.mtu);
  }
  await saveState(s);
  c.stage.mark('ports-created');

  // ── wait: VM ports ACTIVE (the real OVS agent tagged them), DHCP port up with dnsmasq ──
  await waitFor('VM ports ACTIVE and the DHCP port bound', async () => {
    const all = await neutron.listPorts({ network_id: net.id });
    const vmsActive = ports.every((lp) => all.find((p) => p.id === lp.id)?.status === 'ACTIVE');
    const dhcp = all.find((p) => p.device_owner === 'network:dhcp' && p.status === 'ACTIVE');
    return vmsActive && dhcp ? dhcp : undefined;
  }, { timeoutMs: 300_000, stepMs: 500, hint: `see ${d('logs')}/ovs-agent-*.log and dhcp-agent-network-1.log` }).then(async (dhcp) => {
    labNet.dhcp.portId = dhcp.id;
    labNet.dhcp.mac = dhcp.mac_address.toLowerCase();
    labNet.dhcp.ip = dhcp.fixed_ips[0]?.ip_address ?? '';
    labNet.dhcp.iface = `tap${dhcp.id.slice(0, 11)}`;
  });
  const pidFile = join(n1.rundir, 'state', 'dhcp', net.id, 'pid');
  labNet.dhcp.pid = await waitFor('dnsmasq of the network running', async () => {
    const n = Number((await readFile(pidFile, 'utf8')).trim());
    return Number.isInteger(n) && n > 1 && alive(n) ? n : undefined;
  }, { timeoutMs: 300_000, stepMs: 250 });
  for (const n of s.nodes) {
    const tags = await localTags(n, [...ports.filter((p) => p.node === n.name).map((p) => p.id), ...(n === n1 ? [labNet.dhcp.portId] : [])]);
    const t = Object.values(tags)[0];
    if (t !== undefined) {
      n.localVlans[net.id] = t;
      labNet.localVlan[n.name] = t;
    }
  }
  await saveState(s);
  c.stage.mark('ports-active');

  // ── steth agents + steth.conf ──
  await writeFile(s.configPath, renderConf(s, c.opts.agentPort ?? 9698), { mode: 0o600 });
  const wantAgents = c.opts.agents ?? existsSync(agentScript());
  if (wantAgents) {
    if (!existsSync(agentScript())) throw new StethError('ETOOL', `${agentScript()} is not built`, { hint: 'npx tsc -p .' });
    await settleAll(s.nodes.map(async (n) => {
      const sdir = join(n.rundir, 'steth-agent');
      await mkdir(sdir, { recursive: true });
      const port = c.opts.agentPort ?? 9698;
      n.agentPid = service(s, `steth-agent-${n.name}`, n.netns, process.execPath, [...AGENT_NODE_FLAGS, agentScript(), '--listen', n.addresses.mgmt, '--port', String(port),
        '--ovsdb', n.ovsdb, '--node-name', n.name, '--state-dir', sdir, '--token-file', s.tokenFile], {});
      await saveState(s);
      const pid = n.agentPid;
      if (!(await waitTcp(n.addresses.mgmt, port, 20_000, () => alive(pid)))) {
        throw new StethError('EAGENT', `steth-agent on ${n.name} did not start listening on ${n.addresses.mgmt}:${port}`, { hint: `see ${d('logs', `steth-agent-${n.name}.out`)}` });
      }
    }));
    c.stage.mark('steth-agents');
  }
}

/** Wait for every promise; then throw the first rejection, if any. */
async function settleAll(ps: readonly Promise<unknown>[]): Promise<void> {
  const r = await Promise.allSettled(ps);
  const bad = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (bad) throw bad.reason;
}

/** service project, neutron user (admin + service roles), network service and endpoints. */
async function registerNeutron(admin: KeystoneSession, s: OpenstackLabState, neutronPassword: string): Promise<void> {
  const token = await admin.getToken();
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const { requestJson } = await import('../../openstack/http.js');
    const r = await requestJson<Record<string, unknown>>({ method: method as 'GET', url: `http://${s.nodes[0]!.addresses.mgmt}:${KEYSTONE_PORT}/v3/${path}`, service: 'Keystone', token, ...(body ? { body } : {}) }, { timeoutMs: 30_000 });
    return r.body ?? {};
  };
  const project = (await api('POST', 'projects', { project: { name: 'service', domain_id: 'default' } })).project as { id: string };
  const user = (await api('POST', 'users', { user: { name: 'neutron', domain_id: 'default', password: neutronPassword } })).user as { id: string };
  const roles = ((await api('GET', 'roles')).roles as { id: string; name: string }[]);
  let serviceRole = roles.find((r) => r.name === 'service');
  if (!serviceRole) serviceRole = (await api('POST', 'roles', { role: { name: 'service' } })).role as { id: string; name: string };
  const adminRole = roles.find((r) => r.name === 'admin')!;
  await api('PUT', `projects/${project.id}/users/${user.id}/roles/${adminRole.id}`);
  await api('PUT', `projects/${project.id}/users/${user.id}/roles/${serviceRole.id}`);
  const svc = (await api('POST', 'services', { service: { type: 'network', name: 'neutron', enabled: true } })).service as { id: string };
  for (const [iface, url] of [['public', s.neutronUrl], ['internal', `http://127.0.0.1:${NEUTRON_PORT}`], ['admin', `http://127.0.0.1:${NEUTRON_PORT}`]] as const) {
    await api('POST', 'endpoints', { endpoint: { service_id: svc.id, interface: iface, url, region_id: 'RegionOne', enabled: true } });
  }
}

/** os-vif for vif_type ovs (non-hybrid): a device on br-int with the Neutron external_ids; the VM end in its own namespace. */
export async function plugLikeOsVif(s: OpenstackLabState, node: OpenstackLabNode, p: LabPort, mtu: number): Promise<void> {
  await ipBatch([`netns add ${p.vmNetns}`, `link add ${p.devices.tap} netns ${node.netns} type veth peer name ${p.vmIface} netns ${p.vmNetns}`]);
  await ipBatch([`link set ${p.devices.tap} mtu ${mtu} up`], { netns: node.netns });
  const prefixLen = s.networks.find((n) => n.id === p.networkId)?.cidr.split('/')[1] ?? '24';
  await ipBatch(['link set lo up', `link set ${p.vmIface} address ${p.mac} mtu ${mtu}`, `addr add ${p.ip}/${prefixLen} dev ${p.vmIface}`, `link set ${p.vmIface} up`], { netns: p.vmNetns });
  await run('ethtool', ['-K', p.vmIface, 'tx', 'off', 'tso', 'off', 'gso', 'off'], { netns: p.vmNetns, allowFail: true });
  await run('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1'], { netns: p.vmNetns, allowFail: true });
  await vsctl(node.rundir, ['--', '--may-exist', 'add-port', 'br-int', p.devices.tap, '--', 'set', 'Interface', p.devices.tap,
    `external_ids:iface-id=${p.id}`, 'external_ids:iface-status=active', `external_ids:attached-mac=${p.mac}`, `external_ids:vm-uuid=${p.vmUuid}`]);
}

/** Local VLAN tag of OVS ports carrying these iface-ids on a node's br-int. */
async function localTags(n: OpenstackLabNode, ifaceIds: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const r = await vsctl(n.rundir, ['--format=json', '--columns=name,external_ids', 'find', 'Interface', 'external_ids:iface-id!=""'], { allowFail: true });
  let rows: unknown[][] = [];
  try {
    rows = (JSON.parse(r.stdout) as { data: unknown[][] }).data;
  } catch {
    return out;
  }
  for (const row of rows) {
    const name = row[0] as string;
    const ext = Object.fromEntries(((row[1] as [string, [string, string][]])[1]) ?? []);
    const id = ext['iface-id'];
    if (!id || !ifaceIds.includes(id)) continue;
    const t = await vsctl(n.rundir, ['get', 'Port', name, 'tag'], { allowFail: true });
    const tag = Number(t.stdout.trim());
    if (Number.isInteger(tag) && tag > 0) out[id] = tag;
  }
  return out;
}

function renderConf(s: OpenstackLabState, port: number): string {
  const lines = [
    `# generated by 'steth lab up --openstack' for lab ${s.prefix} (${s.createdAt}); removed by 'steth lab down'`,
    '[DEFAULT]',
    `network_types = mgmt:${s.nodes[0]!.nics.mgmt}:10.${s.octet}.0.,net:eth1:10.${s.octet}.0.`,
    `port = ${port}`,
    `token_file = ${s.tokenFile}`,
    'timeout = 30',
    'concurrency = 16',
    '',
    '[neutron_client]',
    '# credentials live in the lab clouds.yaml (use --os-cloud ' + s.cloud + ' with OS_CLIENT_CONFIG_FILE=' + s.cloudsYaml + ')',
    `auth_url = ${s.authUrl}`,
    'username = admin',
    'project_name = admin',
    'region_name = RegionOne',
    '',
  ];
  for (const n of s.nodes) {
    lines.push(`[agent ${n.name}]`, `url = ${n.agentUrl}`, `role = ${n.role}`, `mgmt_address = ${n.addresses.mgmt}`, `net_address = ${n.addresses.net}`,
      `storage_address = ${n.addresses.storage}`, `mgmt_nic = ${n.nics.mgmt}`, `net_nic = ${n.nics.net}`, `storage_nic = ${n.nics.storage}`, '');
  }
  return lines.join('\n');
}

/** A unix socket that accepts and sends a greeting (MariaDB). */
function unixGreets(path: string): Promise<true | undefined> {
  return new Promise((resolveP) => {
    if (!existsSync(path)) return resolveP(undefined);
    const sock = connect({ path });
    const done = (v: true | undefined): void => {
      sock.destroy();
      resolveP(v);
    };
    sock.setTimeout(2000, () => done(undefined));
    sock.once('data', () => done(true));
    sock.once('error', () => done(undefined));
  });
}

/** AMQP 0-9-1 server answers our protocol header with connection.start (through the relay). */
function amqpGreets(host: string, port: number): Promise<true | undefined> {
  return new Promise((resolveP) => {
    const sock = connect({ host, port });
    const done = (v: true | undefined): void => {
      sock.destroy();
      resolveP(v);
    };
    sock.setTimeout(3000, () => done(undefined));
    sock.once('connect', () => sock.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
    sock.once('data', (b: Buffer) => done(b[0] === 1 ? true : undefined));
    sock.once('error', () => done(undefined));
    sock.once('close', () => done(undefined));
  });
}

async function httpOk(url: string): Promise<true | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await r.arrayBuffer();
    return r.status < 500 ? true : undefined;
  } catch {
    return undefined;
  }
}
