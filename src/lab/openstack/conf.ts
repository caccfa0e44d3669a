/**
 * Configuration files of the lab's control plane, rendered from a few facts
 * (paths, ports, secrets). Settings follow shared/DESIGN.md "Facts: a real
 * OpenStack networking control plane runs here too": keystone on sqlite under
 * uwsgi (threads 1, processes 2, Connection: close), neutron-server on MariaDB
 * through a unix socket with one RPC worker, agents with root_helper = env and
 * a netdev datapath on a private ovsdb socket.
 */

export interface PlanePaths {
  dir: string;
  mysqlSocket: string;
  keystoneConf: string;
  keystoneDb: string;
  fernetKeys: string;
  credentialKeys: string;
}

export const KEYSTONE_PORT = 5000;
export const NEUTRON_PORT = 9696;
export const RABBIT_PORT = 5672;
export const RABBIT_DIST_PORT = 25672;

function ini(sections: Record<string, Record<string, string | number | boolean>>): string {
  const out: string[] = [];
  for (const [name, kv] of Object.entries(sections)) {
    out.push(`[${name}]`);
    for (const [k, v] of Object.entries(kv)) out.push(`${k} = ${String(v)}`);
    out.push('');
  }
  return out.join('\n');
}

export function keystoneConf(p: { dir: string; db: string; fernetKeys: string; credentialKeys: string; log: string }): string {
  return ini({
    DEFAULT: { log_file: p.log, use_stderr: false, debug: false },
    database: { connection: `sqlite:///${p.db}` },
    token: { provider: 'fernet', expiration: 3600 },
    fernet_tokens: { key_repository: p.fernetKeys, max_active_keys: 3 },
    credential: { key_repository: p.credentialKeys },
    cache: { enabled: false },
    oslo_policy: { enforce_new_defaults: false, enforce_scope: false },
  });
}

export function keystoneUwsgiIni(p: { conf: string; pidfile: string; log: string; chdir: string }): string {
  return [
    '[uwsgi]',
    `http-socket = 127.0.0.1:5000`,
    'plugins = python3',
    'wsgi-file = /usr/bin/keystone-wsgi-public',
    'master = true',
    'processes = 2',
    'threads = 1',
    'lazy-apps = true',
    'die-on-term = true',
    'no-orphans = true',
    'buffer-size = 65535',
    'add-header = Connection: close',
    `pidfile = ${p.pidfile}`,
    `logto = ${p.log}`,
    `chdir = ${p.chdir}`,
    `env = OS_KEYSTONE_CONFIG_FILES=${p.conf}`,
    'name = steth-lab-keystone',
    '',
  ].join('\n');
}

export interface NeutronCommon {
  host: string;
  transportUrl: string;
  stateDir: string;
  lockDir: string;
  log: string;
}

function neutronDefault(c: NeutronCommon): Record<string, string | number | boolean> {
  return {
    host: c.host,
    transport_url: c.transportUrl,
    state_path: c.stateDir,
    log_file: c.log,
    use_stderr: false,
    debug: false,
  };
}

export function neutronServerConf(c: NeutronCommon & { mysqlSocket: string; keystonePassword: string }): string {
  return ini({
    DEFAULT: {
      ...neutronDefault(c),
      core_plugin: 'ml2',
      service_plugins: '',
      auth_strategy: 'keystone',
      bind_host: '127.0.0.1',
      bind_port: NEUTRON_PORT,
      api_workers: 0,
      rpc_workers: 1,
      rpc_state_report_workers: 0,
      notify_nova_on_port_status_changes: false,
      notify_nova_on_port_data_changes: false,
      dhcp_agents_per_network: 1,
      allow_overlapping_ips: true,
      agent_down_time: 75,
    },
    database: { connection: `mysql+pymysql://root@localhost/neutron?unix_socket=${c.mysqlSocket}`, max_pool_size: 5 },
    keystone_authtoken: {
      www_authenticate_uri: `http://127.0.0.1:${KEYSTONE_PORT}`,
      auth_url: `http://127.0.0.1:${KEYSTONE_PORT}`,
      auth_type: 'password',
      project_domain_name: 'Default',
      user_domain_name: 'Default',
      project_name: 'service',
      username: 'neutron',
      password: c.keystonePassword,
      service_token_roles_required: true,
    },
    oslo_concurrency: { lock_path: c.lockDir },
    oslo_policy: { enforce_new_defaults: false, enforce_scope: false },
    agent: { root_helper: 'env', report_interval: 5 },
  });
}

export function ml2Conf(p: { vlanLow: number; vlanHigh: number }): string {
  return ini({
    ml2: { type_drivers: 'vlan,vxlan,flat', tenant_network_types: 'vlan', mechanism_drivers: 'openvswitch', extension_drivers: 'port_security' },
    ml2_type_vlan: { network_vlan_ranges: `physnet1:${p.vlanLow}:${p.vlanHigh}` },
    ml2_type_vxlan: { vni_ranges: '1001:2000' },
    ml2_type_flat: { flat_networks: '' },
    securitygroup: { enable_security_group: true },
  });
}

/** neutron.conf for an agent (RPC only: no database, no keystone). */
export function agentNeutronConf(c: NeutronCommon): string {
  return ini({
    DEFAULT: neutronDefault(c),
    agent: { root_helper: 'env', report_interval: 5 },
    oslo_concurrency: { lock_path: c.lockDir },
  });
}

export function ovsAgentConf(p: { ovsdb: string; physBridge: string; ofPort: number }): string {
  return ini({
    ovs: {
      bridge_mappings: `physnet1:${p.physBridge}`,
      datapath_type: 'netdev',
      ovsdb_connection: p.ovsdb,
      of_listen_address: '127.0.0.1',
      of_listen_port: p.ofPort,
      integration_bridge: 'br-int',
    },
    agent: { tunnel_types: '', l2_population: false, minimize_polling: true },
    securitygroup: { firewall_driver: 'noop', enable_security_group: true },
  });
}

/**
 * dnsmasq reads its hostsfile again on every SIGHUP after dropping to 'nobody', which
 * cannot traverse the 0700 lab dir: the lab's dnsmasq.conf keeps it root (as the
 * emulated lab's dnsmasq) so new ports' MACs are served.
 */
export function dhcpAgentConf(p: { ovsdb: string; dnsmasqConf: string; dnsmasqLogDir: string }): string {
  return ini({
    DEFAULT: {
      dnsmasq_config_file: p.dnsmasqConf,
      dnsmasq_base_log_dir: p.dnsmasqLogDir,
      interface_driver: 'openvswitch',
      dhcp_driver: 'neutron.agent.linux.dhcp.Dnsmasq',
      enable_isolated_metadata: false,
      force_metadata: false,
      resync_interval: 5,
      num_sync_threads: 1,
    },
    ovs: { ovsdb_connection: p.ovsdb, integration_bridge: 'br-int' },
  });
}

/** RABBITMQ_CONF_ENV_FILE: node name, loopback listeners, all state in the lab dir. */
export function rabbitEnv(p: { dir: string }): string {
  return [
    'NODENAME=rabbit@localhost',
    'NODE_IP_ADDRESS=127.0.0.1',
    `NODE_PORT=${RABBIT_PORT}`,
    `DIST_PORT=${RABBIT_DIST_PORT}`,
    `MNESIA_BASE=${p.dir}/mnesia`,
    `LOG_BASE=${p.dir}/log`,
    `PID_FILE=${p.dir}/rabbit.pid`,
    `CONFIG_FILE=${p.dir}/rabbitmq`,
    `ADVANCED_CONFIG_FILE=${p.dir}/advanced.config`,
    `ENABLED_PLUGINS_FILE=${p.dir}/enabled_plugins`,
    `SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"`,
    `CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"`,
    '',
  ].join('\n');
}

export function rabbitConf(): string {
  return [
    `listeners.tcp.default = 127.0.0.1:${RABBIT_PORT}`,
    'loopback_users = none',
    'log.console = false',
    'log.file.level = warning',
    'vm_memory_high_watermark.absolute = 512MiB',
    'disk_free_limit.absolute = 50MB',
    '',
  ].join('\n');
}

export function cloudsYaml(p: { cloud: string; authUrl: string; password: string }): string {
  return [
    '# generated by steth lab up --openstack; removed by steth lab down',
    'clouds:',
    `  ${p.cloud}:`,
    '    auth:',
    `      auth_url: ${p.authUrl}`,
    '      username: admin',
    `      password: ${JSON.stringify(p.password)}`,
    '      project_name: admin',
    '      user_domain_name: Default',
    '      project_domain_name: Default',
    '    region_name: RegionOne',
    '    interface: public',
    '    identity_api_version: 3',
    '',
  ].join('\n');
}
