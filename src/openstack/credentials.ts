/**
 * Where OpenStack credentials come from, in the conventions operators already use:
 *
 * 1. a cloud of clouds.yaml, named by `--os-cloud` or OS_CLOUD (files searched like
 *    openstacksdk: OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/,
 *    /etc/openstack/; secure.yaml beside it is merged in);
 * 2. OS_* environment variables (when OS_AUTH_URL is set);
 * 3. the original steth.conf [neutron_client] section (username, password,
 *    tenant_name, auth_url, ...), its Keystone v2.0 auth_url upgraded to v3.
 *
 * The result is one `Credentials` object. Secrets (password, application
 * credential secret) are kept out of JSON, util.inspect and every message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { StethError } from '../errors.js';
import type { NeutronConfig } from '../config/types.js';

export type AuthMethod = 'password' | 'application_credential';
export type Interface = 'public' | 'internal' | 'admin';

export interface Credentials {
  /** Keystone v3 base URL, without a trailing slash, ending in /v3 */
  authUrl: string;
  method: AuthMethod;
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  regionName?: string;
  interface: Interface;
  /** explicit network endpoint (skips the catalog), e.g. network_endpoint_override */
  networkEndpoint?: string;
  /** where these credentials came from, e.g. "clouds.yaml cloud 'lab'" */
  source: string;
  /** the secret (password or application credential secret); never serialised */
  readonly secret: string;
}

export interface CredentialSources {
  /** --os-cloud */
  cloud?: string;
  /** environment (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** steth.conf [neutron_client] as loaded by src/config */
  neutronConfig?: NeutronConfig;
  /** clouds.yaml search path override (tests) */
  cloudsFiles?: string[];
}

/** Attach the secret so that JSON.stringify / console.log / inspect never show it. */
function withSecret<T extends object>(obj: T, secret: string): T & { readonly secret: string } {
  Object.defineProperty(obj, 'secret', { value: secret, enumerable: false, writable: false });
  Object.defineProperty(obj, inspect.custom, {
    value: () => ({ ...obj, secret: '***' }),
    enumerable: false,
  });
  return obj as T & { readonly secret: string };
}

/** Normalise an auth URL to its Keystone v3 base: strip /v2.0 (upgrade) or /v3, append /v3. */
export function toV3AuthUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new StethError('ECONFIG', `auth_url '${url.slice(0, 200)}' is not a URL`, { hint: 'expected e.g. http://keystone:5000/v3' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new StethError('ECONFIG', `auth_url must be http(s), not ${u.protocol}`);
  }
  let path = u.pathname.replace(/\/+$/, '');
  path = path.replace(/\/v2\.0$/, '').replace(/\/v3$/, '');
  u.pathname = `${path}/v3`;
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/+$/, '');
}

function normInterface(v: string | undefined, where: string): Interface {
  if (v === undefined || v === '') return 'public';
  const s = v.toLowerCase().replace(/url$/, '');
  if (s === 'public' || s === 'internal' || s === 'admin') return s;
  throw new StethError('ECONFIG', `${where}: interface '${v}' is not public, internal or admin`);
}

function nonEmpty(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

interface RawAuth {
  authUrl?: string;
  authType?: string;
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  domainName?: string;
  domainId?: string;
  appCredId?: string;
  appCredName?: string;
  appCredSecret?: string;
  regionName?: string;
  interface?: string;
  networkEndpoint?: string;
}

function build(raw: RawAuth, source: string): Credentials {
  if (!raw.authUrl) throw new StethError('ECONFIG', `${source}: no auth_url`, { hint: 'set auth_url (OS_AUTH_URL) to the Keystone endpoint, e.g. http://keystone:5000/v3' });
  const authUrl = toV3AuthUrl(raw.authUrl);
  const type = (raw.authType ?? '').toLowerCase();
  const isAppCred = type === 'v3applicationcredential' || type === 'applicationcredential' || type === 'application_credential' ||
    (type === '' && (raw.appCredId !== undefined || raw.appCredSecret !== undefined));
  if (type !== '' && !isAppCred && type !== 'password' && type !== 'v3password') {
    throw new StethError('ECONFIG', `${source}: auth_type '${type}' is not supported`, { hint: 'use password (v3password) or v3applicationcredential' });
  }
  // keystoneauth's "domain" shorthands apply to both user and project
  const userDomainName = raw.userDomainName ?? raw.domainName;
  const userDomainId = raw.userDomainId ?? raw.domainId ?? (userDomainName === undefined ? 'default' : undefined);
  const projectDomainName = raw.projectDomainName ?? raw.domainName;
  const projectDomainId = raw.projectDomainId ?? raw.domainId ?? (projectDomainName === undefined ? 'default' : undefined);
  const common = {
    authUrl,
    interface: normInterface(raw.interface, source),
    source,
    ...(raw.regionName ? { regionName: raw.regionName } : {}),
    ...(raw.networkEndpoint ? { networkEndpoint: raw.networkEndpoint.replace(/\/+$/, '') } : {}),
  };
  if (isAppCred) {
    if (!raw.appCredSecret) throw new StethError('ECONFIG', `${source}: application credential without a secret`, { hint: 'set application_credential_secret (OS_APPLICATION_CREDENTIAL_SECRET)' });
    if (!raw.appCredId && !raw.appCredName) throw new StethError('ECONFIG', `${source}: application credential needs an id or a name`);
    if (!raw.appCredId && !raw.username && !raw.userId) {
      throw new StethError('ECONFIG', `${source}: an application credential given by name needs its user (username or user_id)`);
    }
    const c: Omit<Credentials, 'secret'> = {
      ...common,
      method: 'application_credential',
      ...(raw.appCredId ? { applicationCredentialId: raw.appCredId } : {}),
      ...(raw.appCredName ? { applicationCredentialName: raw.appCredName } : {}),
      ...(raw.username ? { username: raw.username } : {}),
      ...(raw.userId ? { userId: raw.userId } : {}),
      ...(userDomainName ? { userDomainName } : {}),
      ...(userDomainId ? { userDomainId } : {}),
    };
    return withSecret(c, raw.appCredSecret);
  }
  if (!raw.username && !raw.userId) throw new StethError('ECONFIG', `${source}: no username`, { hint: 'set username (OS_USERNAME) or user_id' });
  if (raw.password === undefined) throw new StethError('ECONFIG', `${source}: no password`, { hint: 'set password (OS_PASSWORD), or use an application credential' });
  const c: Omit<Credentials, 'secret'> = {
    ...common,
    method: 'password',
    ...(raw.username ? { username: raw.username } : {}),
    ...(raw.userId ? { userId: raw.userId } : {}),
    ...(userDomainName ? { userDomainName } : {}),
    ...(userDomainId ? { userDomainId } : {}),
    ...(raw.projectName ? { projectName: raw.projectName } : {}),
    ...(raw.projectId ? { projectId: raw.projectId } : {}),
    ...(projectDomainName ? { projectDomainName } : {}),
    ...(projectDomainId ? { projectDomainId } : {}),
  };
  return withSecret(c, raw.password);
}

/** OS_* variables → credentials, or undefined when OS_AUTH_URL is not set. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const g = (k: string): string | undefined => nonEmpty(env[k]);
  if (!g('OS_AUTH_URL')) return undefined;
  const raw: RawAuth = {};
  const set = <K extends keyof RawAuth>(k: K, v: string | undefined): void => {
    if (v !== undefined) raw[k] = v;
  };
  set('authUrl', g('OS_AUTH_URL'));
  set('authType', g('OS_AUTH_TYPE'));
  set('username', g('OS_USERNAME'));
  set('userId', g('OS_USER_ID'));
  if (env.OS_PASSWORD !== undefined) raw.password = env.OS_PASSWORD;
  set('userDomainName', g('OS_USER_DOMAIN_NAME'));
  set('userDomainId', g('OS_USER_DOMAIN_ID'));
  set('projectName', g('OS_PROJECT_NAME') ?? g('OS_TENANT_NAME'));
  set('projectId', g('OS_PROJECT_ID') ?? g('OS_TENANT_ID'));
  set('projectDomainName', g('OS_PROJECT_DOMAIN_NAME'));
  set('projectDomainId', g('OS_PROJECT_DOMAIN_ID'));
  set('domainName', g('OS_DOMAIN_NAME'));
  set('domainId', g('OS_DOMAIN_ID'));
  set('appCredId', g('OS_APPLICATION_CREDENTIAL_ID'));
  set('appCredName', g('OS_APPLICATION_CREDENTIAL_NAME'));
  set('appCredSecret', g('OS_APPLICATION_CREDENTIAL_SECRET'));
  set('regionName', g('OS_REGION_NAME'));
  set('interface', g('OS_INTERFACE') ?? g('OS_ENDPOINT_TYPE'));
  set('networkEndpoint', g('OS_NETWORK_ENDPOINT_OVERRIDE'));
  return build(raw, 'OS_* environment');
}

/** clouds.yaml search order (openstacksdk's). */
export function cloudsYamlPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.OS_CLIENT_CONFIG_FILE) return [env.OS_CLIENT_CONFIG_FILE];
  const xdg = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config');
  return [join(process.cwd(), 'clouds.yaml'), join(xdg, 'openstack', 'clouds.yaml'), '/etc/openstack/clouds.yaml'];
}

// yaml costs more to load than the rest of the OpenStack client: only when a
// clouds.yaml / secure.yaml is actually read (OS_* and steth.conf credentials never
// need it). The package is CommonJS for Node, so a lazy require is the same module.
const requireCjs = createRequire(import.meta.url);
let yamlParse: typeof import('yaml').parse | undefined;
const parseYaml = (text: string): unknown => (yamlParse ??= (requireCjs('yaml') as typeof import('yaml')).parse)(text);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

function readYamlFile(path: string): Obj {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new StethError('ECONFIG', `cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new StethError('ECONFIG', `${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isObj(doc)) throw new StethError('ECONFIG', `${path}: expected a mapping at the top`);
  return doc;
}

/** Credentials of the cloud `name` of clouds.yaml (first file found that has a clouds: mapping). */
export function credentialsFromCloudsYaml(name: string, opts: { env?: NodeJS.ProcessEnv; files?: string[] } = {}): Credentials {
  const env = opts.env ?? process.env;
  const files = opts.files ?? cloudsYamlPaths(env);
  const found = files.find((f) => existsSync(f));
  if (!found) {
    throw new StethError('ECONFIG', `cloud '${name}' requested but no clouds.yaml found`, { hint: `looked in ${files.join(', ')}` });
  }
  const doc = readYamlFile(found);
  const clouds = doc.clouds;
  if (!isObj(clouds)) throw new StethError('ECONFIG', `${found} has no clouds: mapping`);
  let cloud = clouds[name];
  if (!isObj(cloud)) {
    throw new StethError('ECONFIG', `cloud '${name}' is not in ${found}`, { hint: `clouds there: ${Object.keys(clouds).join(', ') || 'none'}` });
  }
  const securePath = join(found, '..', 'secure.yaml');
  if (existsSync(securePath)) {
    const sec = readYamlFile(securePath).clouds;
    if (isObj(sec) && isObj(sec[name])) cloud = deepMerge(cloud, sec[name] as Obj);
  }
  const c = cloud as Obj;
  const auth = isObj(c.auth) ? c.auth : {};
  const s = (o: Obj, k: string): string | undefined => nonEmpty(o[k]);
  const raw: RawAuth = {};
  const set = <K extends keyof RawAuth>(k: K, v: string | undefined): void => {
    if (v !== undefined) raw[k] = v;
  };
  set('authUrl', s(auth, 'auth_url'));
  set('authType', s(c, 'auth_type'));
  set('username', s(auth, 'username'));
  set('userId', s(auth, 'user_id'));
  if (auth.password !== undefined && auth.password !== null) raw.password = String(auth.password);
  set('userDomainName', s(auth, 'user_domain_name'));
  set('userDomainId', s(auth, 'user_domain_id'));
  set('projectName', s(auth, 'project_name') ?? s(auth, 'tenant_name'));
  set('projectId', s(auth, 'project_id') ?? s(auth, 'tenant_id'));
  set('projectDomainName', s(auth, 'project_domain_name'));
  set('projectDomainId', s(auth, 'project_domain_id'));
  set('domainName', s(auth, 'domain_name'));
  set('domainId', s(auth, 'domain_id'));
  set('appCredId', s(auth, 'application_credential_id'));
  set('appCredName', s(auth, 'application_credential_name'));
  set('appCredSecret', s(auth, 'application_credential_secret'));
  const regions = c.regions;
  const firstRegion = Array.isArray(regions) ? (isObj(regions[0]) ? nonEmpty(regions[0].name) : nonEmpty(regions[0])) : undefined;
  set('regionName', s(c, 'region_name') ?? firstRegion);
  set('interface', s(c, 'interface') ?? s(c, 'endpoint_type'));
  set('networkEndpoint', s(c, 'network_endpoint_override'));
  return build(raw, `clouds.yaml cloud '${name}' (${found})`);
}

/** The original steth.conf [neutron_client] section (v2.0 auth_url upgraded to v3). */
export function credentialsFromStethConf(n: NeutronConfig): Credentials | undefined {
  const r = n.raw ?? {};
  const pick = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      const v = nonEmpty(r[k]);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const authUrl = n.authUrl ?? pick('auth_url', 'os_auth_url');
  if (!authUrl) return undefined;
  const raw: RawAuth = { authUrl };
  const set = <K extends keyof RawAuth>(k: K, v: string | undefined): void => {
    if (v !== undefined) raw[k] = v;
  };
  set('username', n.username ?? pick('username', 'user', 'os_username'));
  const pw = n.password ?? r.password ?? r.os_password;
  if (pw !== undefined) raw.password = pw;
  set('projectName', n.projectName ?? pick('project_name', 'tenant_name', 'os_tenant_name', 'os_project_name'));
  set('userDomainName', n.userDomainName ?? pick('user_domain_name'));
  set('projectDomainName', n.projectDomainName ?? pick('project_domain_name'));
  set('regionName', n.regionName ?? pick('region_name', 'os_region_name'));
  set('interface', pick('interface', 'endpoint_type'));
  return build(raw, 'steth.conf [neutron_client]');
}

/**
 * The credentials the CLI should use, or undefined when none are configured
 * (callers then fall back to OVSDB resolution). An explicit cloud that cannot be
 * found is an error, not a silent fallback.
 */
export function resolveCredentials(src: CredentialSources = {}): Credentials | undefined {
  const env = src.env ?? process.env;
  const cloud = nonEmpty(src.cloud) ?? nonEmpty(env.OS_CLOUD);
  if (cloud) return credentialsFromCloudsYaml(cloud, { env, ...(src.cloudsFiles ? { files: src.cloudsFiles } : {}) });
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return fromEnv;
  if (src.neutronConfig) return credentialsFromStethConf(src.neutronConfig);
  return undefined;
}

/** Replace every occurrence of the given secrets in a text by ***. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return out;
}
