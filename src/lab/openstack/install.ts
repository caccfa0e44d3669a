/**
 * The Debian packages of the real control plane, installed when missing:
 * `apt-get install --no-install-recommends` with DEBIAN_FRONTEND=noninteractive
 * and debconf preseeded so no postinst configures a database, rabbit, Keystone
 * endpoints or nova (the lab configures everything itself, in its own dir).
 */
import { StethError } from '../../errors.js';
import { run } from '../../host/exec.js';

export const PACKAGES = [
  'keystone', 'neutron-server', 'neutron-openvswitch-agent', 'neutron-dhcp-agent', 'rabbitmq-server', 'mariadb-server',
  'python3-openstackclient', 'uwsgi-core', 'uwsgi-plugin-python3', 'python3-pymysql', 'openvswitch-switch', 'dnsmasq-base',
] as const;

export const PRESEED = [
  'keystone keystone/configure_db boolean false',
  'keystone keystone/create-admin-tenant boolean false',
  'keystone keystone/register-endpoint boolean false',
  'keystone keystone/dbconfig-install boolean false',
  'neutron-common neutron/configure_db boolean false',
  'neutron-common neutron/configure_rabbit boolean false',
  'neutron-common neutron/configure_ksat boolean false',
  'neutron-common neutron/configure_nova boolean false',
  'neutron-common neutron/configure_api-endpoint boolean false',
  'neutron-common neutron/dbconfig-install boolean false',
  'neutron-server neutron/configure_api-endpoint boolean false',
];

/** Packages of PACKAGES not installed now. */
export async function missingPackages(): Promise<string[]> {
  const r = await run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status}\n', ...PACKAGES], { allowFail: true });
  const installed = new Set(r.stdout.split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]));
  return PACKAGES.filter((p) => !installed.has(p));
}

export interface InstallResult {
  installed: string[];
  seconds: number;
}

/** Install what is missing (root). Returns what was installed and how long it took. */
export async function ensurePackages(log: (l: string) => void = () => undefined): Promise<InstallResult> {
  const missing = await missingPackages();
  if (missing.length === 0) return { installed: [], seconds: 0 };
  if (process.getuid?.() !== 0) throw new StethError('EPERM', `packages missing (${missing.join(', ')}) and not root to install them`);
  const t0 = Date.now();
  log(`installing ${missing.join(' ')} (apt-get, ~1-4 min)`);
  await run('debconf-set-selections', [], { input: `${PRESEED.join('\n')}\n` });
  const env = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l' };
  const install = (): Promise<unknown> => run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env, timeoutMs: 900_000 });
  try {
    await install();
  } catch {
    // package lists may be stale or absent on a fresh machine
    await run('apt-get', ['update', '-q'], { env, timeoutMs: 300_000 });
    await install();
  }
  const still = await missingPackages();
  if (still.length > 0) throw new StethError('ETOOL', `apt-get did not install ${still.join(', ')}`);
  return { installed: missing, seconds: (Date.now() - t0) / 1000 };
}
