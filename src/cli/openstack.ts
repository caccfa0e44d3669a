/**
 * Whether OpenStack credentials can exist for this run, decided without loading
 * src/openstack (its import costs more than a whole OVSDB port resolution): a
 * steth.conf [neutron_client] section, an OS_* variable (OS_CLOUD, OS_AUTH_URL, ...)
 * or a clouds.yaml where openstacksdk looks. A yes means "try": the credential
 * loader may still find none, and callers then behave as without credentials.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';

export function openstackCredentialsMayExist(env: NodeJS.ProcessEnv, config: Pick<Config, 'neutron'>, exists: (path: string) => boolean = existsSync): boolean {
  const xdg = env.XDG_CONFIG_HOME ?? join(env.HOME ?? '', '.config');
  const clouds = env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE] : ['clouds.yaml', join(xdg, 'openstack', 'clouds.yaml'), '/etc/openstack/clouds.yaml'];
  return (
    Boolean(config.neutron && (config.neutron.authUrl || Object.keys(config.neutron.raw).length > 0)) ||
    Object.keys(env).some((k) => k.startsWith('OS_') && env[k]) ||
    clouds.some((f) => exists(f))
  );
}
