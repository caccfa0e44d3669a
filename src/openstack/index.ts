/**
 * OpenStack access for steth: Keystone v3 + Neutron v2.0 over fetch, credentials
 * from clouds.yaml / OS_* / steth.conf [neutron_client].
 *
 *   const neutron = neutronFromSources({ cloud: opts.osCloud, neutronConfig: config.neutron });
 *   if (neutron) model = await resolvePortViaNeutron(portId, { neutron });
 *
 * `neutronFromSources` returns undefined when no credentials are configured, so
 * callers fall back to OVSDB resolution (no credentials needed).
 */
import { resolveCredentials, type CredentialSources, type Credentials } from './credentials.js';
import { KeystoneSession, type SessionOptions } from './keystone.js';
import { NeutronClient, type NeutronOptions } from './neutron.js';
import { resolvePortWith, type ResolveOptions, type ResolvedNeutronPort } from './resolve.js';

export * from './credentials.js';
export * from './http.js';
export * from './keystone.js';
export * from './neutron.js';
export * from './resolve.js';
export * from './agents.js';

export type ClientOptions = SessionOptions & NeutronOptions;

/** A Neutron client for explicit credentials. */
export function neutronClient(credentials: Credentials, opts: ClientOptions = {}): NeutronClient {
  return new NeutronClient(new KeystoneSession(credentials, opts), opts);
}

// one session per credential source in this process: a CLI run resolving several
// ports authenticates once (token reuse until expiry)
const cache = new Map<string, NeutronClient>();

/** A Neutron client from the configured credentials, or undefined when there are none. */
export function neutronFromSources(src: CredentialSources = {}, opts: ClientOptions = {}): NeutronClient | undefined {
  const creds = resolveCredentials(src);
  if (!creds) return undefined;
  const key = JSON.stringify(creds);
  let c = cache.get(key);
  if (!c || c.session.credentials.secret !== creds.secret) {
    c = neutronClient(creds, opts);
    cache.set(key, c);
  }
  return c;
}

export interface ResolvePortViaNeutronOptions extends ResolveOptions, CredentialSources {
  /** an existing client (else one is built from the credential sources) */
  neutron?: NeutronClient;
  client?: ClientOptions;
}

/**
 * Resolve a Neutron port id to {host, MAC, fixed IPs, network type/segmentation
 * id/MTU, DHCP servers}. Throws ECONFIG when no credentials are configured.
 */
export async function resolvePortViaNeutron(portId: string, opts: ResolvePortViaNeutronOptions = {}): Promise<ResolvedNeutronPort> {
  const neutron = opts.neutron ?? neutronFromSources(opts, opts.client ?? {});
  if (!neutron) {
    const { StethError } = await import('../errors.js');
    throw new StethError('ECONFIG', 'no OpenStack credentials configured', {
      hint: 'use --os-cloud / OS_CLOUD with clouds.yaml, OS_* variables, or a [neutron_client] section in steth.conf',
    });
  }
  return await resolvePortWith(neutron, portId, opts);
}
