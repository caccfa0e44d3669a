/**
 * steth.conf → Config. Accepts the original file unchanged (network_types,
 * nodes_id, node_name_prefix, [mgmt_type_network] / [sdn_type_network] /
 * [storage_type_network], [neutron_client]) and adds `[agent NAME]` sections,
 * token / token_file, port, timeout (seconds) and concurrency. Every bad value
 * is an ECONFIG error naming file:line:key.
 *
 * Agents: each id in nodes_id becomes agent `${node_name_prefix}${id}` at
 * http://NAME:PORT with address `${prefix}${id}` on each network type (how the
 * original derived node IPs); `[agent NAME]` sections add agents or override them.
 */
import { readFileSync } from 'node:fs';
import { StethError } from '../errors.js';
import { assertIfName, assertPort, parseIPv4, printable } from '../validate.js';
import { configError, parseIni, type IniFile, type IniSection, type IniValue } from './ini.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_CONFIG_PATH,
  DEFAULT_PORT,
  DEFAULT_TIMEOUT_MS,
  NETWORK_TYPE_NAMES,
  type AgentEntry,
  type Config,
  type NetworkType,
  type NetworkTypeName,
  type NeutronConfig,
} from './types.js';

export interface LoadOptions {
  /** explicit file (--config); missing → ECONFIG */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** read the file (tests) */
  readFile?: (path: string) => string;
}

/** Original section names → network type. */
const TYPE_SECTIONS: Record<string, NetworkTypeName> = {
  mgmt_type_network: 'mgmt',
  sdn_type_network: 'net',
  net_type_network: 'net',
  storage_type_network: 'storage',
};

const AGENT_KEYS = new Set(['url', 'host', 'port', 'scheme', 'role', 'token', 'mgmt_address', 'net_address', 'storage_address', 'mgmt_nic', 'net_nic', 'storage_nic']);

export async function loadConfig(opts: LoadOptions = {}): Promise<Config> {
  const env = opts.env ?? process.env;
  const explicit = opts.path ?? (env.STETH_CONFIG !== undefined && env.STETH_CONFIG !== '' ? env.STETH_CONFIG : undefined);
  const path = explicit ?? DEFAULT_CONFIG_PATH;
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let text: string | undefined;
  try {
    text = read(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && explicit === undefined) text = undefined;
    else throw new StethError('ECONFIG', `cannot read config ${path}: ${code ?? String(e)}`, { hint: code === 'ENOENT' ? 'check --config / STETH_CONFIG' : undefined });
  }
  const cfg = text === undefined ? defaults(null) : parseConfig(text, path, read);
  // environment overrides
  if (env.STETH_TOKEN !== undefined && env.STETH_TOKEN !== '') cfg.token = env.STETH_TOKEN;
  return cfg;
}

function defaults(source: string | null): Config {
  return { source, port: DEFAULT_PORT, timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY, networkTypes: [], agents: [] };
}

/** Parse steth.conf text (pure apart from reading token_file). */
export function parseConfig(text: string, path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): Config {
  const ini = parseIni(text, path);
  const cfg = defaults(path);
  const def = ini.sections.get('DEFAULT')!;
  const get = (k: string): IniValue | undefined => def.entries.get(k);

  const port = get('port');
  if (port) cfg.port = intIn(ini, port, 'port', 1, 65535);
  const timeout = get('timeout');
  if (timeout) {
    const n = Number(timeout.value);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw configError(ini, timeout, 'timeout', `'${printable(timeout.value)}' is not a timeout in seconds (0 < t <= 3600)`);
    cfg.timeoutMs = Math.round(n * 1000);
  }
  const conc = get('concurrency');
  if (conc) cfg.concurrency = intIn(ini, conc, 'concurrency', 1, 1024);
  const tokenFile = get('token_file');
  const token = get('token');
  if (token && tokenFile) throw configError(ini, tokenFile, 'token_file', 'set token or token_file, not both');
  if (token && token.value !== '') cfg.token = token.value;
  if (tokenFile) {
    try {
      const t = read(tokenFile.value).trim();
      if (t === '') throw configError(ini, tokenFile, 'token_file', `${tokenFile.value} is empty`);
      cfg.token = t;
    } catch (e) {
      if (e instanceof StethError) throw e;
      throw configError(ini, tokenFile, 'token_file', `cannot read ${tokenFile.value}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  // network_types = type:nic:prefix,...
  const nt = get('network_types');
  if (nt) cfg.networkTypes = parseNetworkTypes(ini, nt);
  for (const [secName, type] of Object.entries(TYPE_SECTIONS)) {
    const sec = ini.sections.get(secName);
    if (!sec) continue;
    const nic = sec.entries.get('nic') ?? sec.entries.get('physical_nic') ?? sec.entries.get('interface');
    const prefix = sec.entries.get('network_prefix') ?? sec.entries.get('prefix') ?? sec.entries.get('ip_prefix');
    if (!nic && !prefix) continue;
    const existing = cfg.networkTypes.find((n) => n.type === type);
    const entry: NetworkType = existing ?? { type, nic: '', prefix: '' };
    if (nic) entry.nic = ifName(ini, nic, `${secName}.nic`);
    if (prefix) entry.prefix = checkPrefix(ini, prefix, `${secName}.prefix`);
    if (!existing) cfg.networkTypes.push(entry);
  }

  const ids = get('nodes_id');
  const namePrefix = get('node_name_prefix');
  if (namePrefix) cfg.nodeNamePrefix = namePrefix.value;
  if (ids) {
    const list = ids.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const id of list) if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw configError(ini, ids, 'nodes_id', `'${printable(id)}' is not a node id`, 'expected e.g. 39,233,64');
    cfg.nodesId = list;
    const prefix = namePrefix?.value ?? 'server-';
    for (const id of list) {
      const name = `${prefix}${id}`;
      const e: AgentEntry = { name, url: `http://${name}:${cfg.port}`, addresses: {}, nics: {} };
      for (const n of cfg.networkTypes) {
        if (n.prefix !== '' && /^\d+$/.test(id)) e.addresses[n.type] = `${n.prefix}${id}`;
        if (n.nic !== '') e.nics[n.type] = n.nic;
      }
      cfg.agents.push(e);
    }
  }

  for (const sec of ini.sections.values()) {
    const m = /^agent\s+(.+)$/.exec(sec.name);
    if (sec.name === 'agent' || (sec.name.startsWith('agent ') && !m)) throw configError(ini, { value: '', line: sec.line }, sec.name, 'agent sections need a name: [agent NAME]');
    if (!m) continue;
    applyAgentSection(ini, sec, m[1]!.trim(), cfg);
  }

  const neutron = ini.sections.get('neutron_client');
  if (neutron) cfg.neutron = parseNeutron(neutron);
  return cfg;
}

function applyAgentSection(ini: IniFile, sec: IniSection, name: string, cfg: Config): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw configError(ini, { value: name, line: sec.line }, `agent ${name}`, `'${printable(name)}' is not an agent name`, 'letters, digits, _ . -');
  for (const [k, v] of sec.entries) {
    if (!AGENT_KEYS.has(k)) throw configError(ini, v, k, `unknown key in [agent ${name}]`, `known keys: ${[...AGENT_KEYS].join(', ')}`);
  }
  let entry = cfg.agents.find((a) => a.name === name);
  if (!entry) {
    entry = { name, url: '', addresses: {}, nics: {} };
    for (const n of cfg.networkTypes) if (n.nic !== '') entry.nics[n.type] = n.nic;
    cfg.agents.push(entry);
  }
  const e = sec.entries;
  const url = e.get('url');
  const host = e.get('host');
  if (url && host) throw configError(ini, host, 'host', 'set url or host (+ port), not both');
  if (url) {
    let u: URL;
    try {
      u = new URL(url.value);
    } catch {
      throw configError(ini, url, 'url', `'${printable(url.value)}' is not a URL`, 'expected http://HOST:9698');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw configError(ini, url, 'url', `scheme ${u.protocol} is not http or https`);
    entry.url = url.value.replace(/\/+$/, '');
  } else {
    const p = e.get('port');
    const port = p ? intIn(ini, p, 'port', 1, 65535) : cfg.port;
    const scheme = e.get('scheme');
    if (scheme && scheme.value !== 'http' && scheme.value !== 'https') throw configError(ini, scheme, 'scheme', 'must be http or https');
    const h = host?.value ?? (entry.url !== '' ? new URL(entry.url).hostname : undefined) ?? e.get('mgmt_address')?.value;
    if (h === undefined || h === '') throw configError(ini, { value: '', line: sec.line }, `agent ${name}`, 'needs url, host or mgmt_address');
    if (!/^[A-Za-z0-9_.:\[\]-]+$/.test(h)) throw configError(ini, host, 'host', `'${printable(h)}' is not a host name or address`);
    entry.url = `${scheme?.value ?? 'http'}://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`;
  }
  const role = e.get('role');
  if (role) {
    if (role.value !== 'network' && role.value !== 'compute') throw configError(ini, role, 'role', `'${printable(role.value)}' is not network or compute`);
    entry.role = role.value;
  }
  for (const t of NETWORK_TYPE_NAMES) {
    const a = e.get(`${t}_address`);
    if (a) {
      try {
        entry.addresses[t] = parseIPv4(a.value.split('/')[0]);
      } catch {
        throw configError(ini, a, `${t}_address`, `'${printable(a.value)}' is not an IPv4 address`);
      }
    }
    const n = e.get(`${t}_nic`);
    if (n) entry.nics[t] = ifName(ini, n, `${t}_nic`);
  }
  const tok = e.get('token');
  if (tok) entry.token = tok.value;
}

function parseNetworkTypes(ini: IniFile, v: IniValue): NetworkType[] {
  const out: NetworkType[] = [];
  for (const item of v.value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const parts = item.split(':');
    if (parts.length !== 3) throw configError(ini, v, 'network_types', `'${printable(item)}' is not type:nic:prefix`, 'e.g. mgmt:eth0:1.1.1.,net:eth1:2.2.2.');
    const [type, nic, prefix] = parts as [string, string, string];
    if (!(NETWORK_TYPE_NAMES as readonly string[]).includes(type)) throw configError(ini, v, 'network_types', `unknown network type '${printable(type)}'`, `one of ${NETWORK_TYPE_NAMES.join(', ')}`);
    if (out.some((n) => n.type === type)) throw configError(ini, v, 'network_types', `network type ${type} listed twice`);
    out.push({ type: type as NetworkTypeName, nic: ifName(ini, { ...v, value: nic }, 'network_types'), prefix: checkPrefix(ini, { ...v, value: prefix }, 'network_types') });
  }
  return out;
}

function checkPrefix(ini: IniFile, v: IniValue, key: string): string {
  if (!/^(\d{1,3}\.){1,3}$/.test(v.value) || v.value.split('.').slice(0, -1).some((o) => Number(o) > 255)) {
    throw configError(ini, v, key, `'${printable(v.value)}' is not an address prefix`, "expected e.g. '2.2.2.' (the node id is appended)");
  }
  return v.value;
}

function ifName(ini: IniFile, v: IniValue, key: string): string {
  try {
    return assertIfName(v.value);
  } catch (e) {
    throw configError(ini, v, key, e instanceof Error ? e.message : String(e));
  }
}

function intIn(ini: IniFile, v: IniValue, key: string, lo: number, hi: number): number {
  const n = Number(v.value);
  if (!/^\d+$/.test(v.value) || n < lo || n > hi) throw configError(ini, v, key, `'${printable(v.value)}' is not a whole number in ${lo}..${hi}`);
  if (key === 'port') assertPort(n);
  return n;
}

function parseNeutron(sec: IniSection): NeutronConfig {
  const raw: Record<string, string> = {};
  for (const [k, v] of sec.entries) raw[k] = v.value;
  const n: NeutronConfig = { raw };
  const pick = (...keys: string[]): string | undefined => keys.map((k) => raw[k]).find((x) => x !== undefined && x !== '');
  const set = (k: keyof Omit<NeutronConfig, 'raw'>, v: string | undefined): void => {
    if (v !== undefined) n[k] = v;
  };
  set('authUrl', pick('auth_url', 'os_auth_url'));
  set('username', pick('username', 'os_username'));
  set('password', pick('password', 'os_password'));
  set('projectName', pick('project_name', 'tenant_name', 'os_project_name', 'os_tenant_name'));
  set('userDomainName', pick('user_domain_name', 'os_user_domain_name'));
  set('projectDomainName', pick('project_domain_name', 'os_project_domain_name'));
  set('regionName', pick('region_name', 'os_region_name'));
  return n;
}

/** Find an agent by name (exact, then case-insensitive). */
export function findAgent(cfg: Config, name: string): AgentEntry {
  const hit = cfg.agents.find((a) => a.name === name) ?? cfg.agents.find((a) => a.name.toLowerCase() === name.toLowerCase());
  if (hit) return hit;
  const where = cfg.source ?? 'no config file (defaults only)';
  throw new StethError('ENOENT', `no agent '${printable(name)}' in ${where}`, {
    hint: cfg.agents.length ? `agents: ${cfg.agents.map((a) => a.name).join(', ')}` : `add [agent ${name}] with url = http://HOST:9698 to ${cfg.source ?? DEFAULT_CONFIG_PATH}`,
  });
}
