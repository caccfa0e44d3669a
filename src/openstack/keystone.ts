/**
 * Keystone v3: password and application-credential authentication, token reuse
 * until shortly before it expires (then a fresh one), and endpoint selection
 * from the service catalog by type, interface and region.
 *
 * The token lives in this object only; `toJSON`/inspect show neither it nor the
 * secret.
 */
import { inspect } from 'node:util';
import { z } from 'zod';
import { StethError } from '../errors.js';
import type { Credentials, Interface } from './credentials.js';
import { HttpStatusError, requestJson, type HttpOptions } from './http.js';

const EndpointSchema = z.object({
  id: z.string().optional(),
  interface: z.string(),
  region: z.string().nullish(),
  region_id: z.string().nullish(),
  url: z.string(),
});
const ServiceSchema = z.object({
  id: z.string().optional(),
  type: z.string(),
  name: z.string().optional(),
  endpoints: z.array(EndpointSchema),
});
const TokenBodySchema = z.object({
  token: z.object({
    expires_at: z.string(),
    issued_at: z.string().optional(),
    methods: z.array(z.string()).optional(),
    user: z.object({ id: z.string(), name: z.string().optional() }).passthrough().optional(),
    project: z.object({ id: z.string(), name: z.string().optional() }).passthrough().optional(),
    roles: z.array(z.object({ id: z.string().optional(), name: z.string() }).passthrough()).optional(),
    catalog: z.array(ServiceSchema).optional(),
  }).passthrough(),
});

export type CatalogService = z.infer<typeof ServiceSchema>;
export type CatalogEndpoint = z.infer<typeof EndpointSchema>;

export interface TokenInfo {
  expiresAt: Date;
  userId?: string;
  projectId?: string;
  projectName?: string;
  roles: string[];
  catalog: CatalogService[];
}

export interface SessionOptions extends HttpOptions {
  /** re-authenticate this long before expires_at (default 120 s) */
  refreshMarginMs?: number;
  /** clock (tests) */
  now?: () => number;
}

/** The body of POST /v3/auth/tokens for these credentials. */
export function authBody(c: Credentials): unknown {
  const userRef = (): Record<string, unknown> => {
    if (c.userId) return { id: c.userId };
    const domain = c.userDomainId ? { id: c.userDomainId } : { name: c.userDomainName };
    return { name: c.username, domain };
  };
  if (c.method === 'application_credential') {
    const ac: Record<string, unknown> = { secret: c.secret };
    if (c.applicationCredentialId) ac.id = c.applicationCredentialId;
    else {
      ac.name = c.applicationCredentialName;
      ac.user = userRef();
    }
    return { auth: { identity: { methods: ['application_credential'], application_credential: ac } } };
  }
  const auth: Record<string, unknown> = {
    identity: { methods: ['password'], password: { user: { ...userRef(), password: c.secret } } },
  };
  if (c.projectId) auth.scope = { project: { id: c.projectId } };
  else if (c.projectName) {
    const domain = c.projectDomainId ? { id: c.projectDomainId } : { name: c.projectDomainName };
    auth.scope = { project: { name: c.projectName, domain } };
  }
  return { auth };
}

/** Pick the endpoint of `type` for an interface and (optional) region from a catalog. */
export function selectEndpoint(catalog: readonly CatalogService[], type: string, iface: Interface, region?: string): string {
  const services = catalog.filter((s) => s.type === type);
  if (services.length === 0) {
    throw new StethError('ECONFIG', `the service catalog has no '${type}' service`, {
      hint: `services in the catalog: ${[...new Set(catalog.map((s) => s.type))].join(', ') || 'none'}`,
    });
  }
  const all = services.flatMap((s) => s.endpoints);
  const byIface = all.filter((e) => e.interface.toLowerCase().replace(/url$/, '') === iface);
  if (byIface.length === 0) {
    throw new StethError('ECONFIG', `the '${type}' service has no ${iface} endpoint`, {
      hint: `interfaces available: ${[...new Set(all.map((e) => e.interface))].join(', ')}; set OS_INTERFACE or interface: in clouds.yaml`,
    });
  }
  const regionOf = (e: CatalogEndpoint): string | undefined => e.region_id ?? e.region ?? undefined;
  let chosen = byIface;
  if (region !== undefined) {
    chosen = byIface.filter((e) => regionOf(e) === region || e.region === region);
    if (chosen.length === 0) {
      throw new StethError('ECONFIG', `the '${type}' service has no ${iface} endpoint in region '${region}'`, {
        hint: `regions available: ${[...new Set(byIface.map(regionOf).filter(Boolean))].join(', ') || 'none'}`,
      });
    }
  } else {
    const regions = new Set(byIface.map(regionOf));
    if (regions.size > 1) {
      throw new StethError('ECONFIG', `the '${type}' service has ${iface} endpoints in several regions`, {
        hint: `choose one with OS_REGION_NAME or region_name: ${[...regions].filter(Boolean).join(', ')}`,
      });
    }
  }
  return chosen[0]!.url.replace(/\/+$/, '');
}

export class KeystoneSession {
  readonly credentials: Credentials;
  private readonly opts: SessionOptions;
  private token: string | undefined;
  private info: TokenInfo | undefined;
  private pending: Promise<string> | undefined;
  /** how many times this session authenticated (tests, bench) */
  authCount = 0;

  constructor(credentials: Credentials, opts: SessionOptions = {}) {
    this.credentials = credentials;
    this.opts = opts;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A valid token: the cached one until refreshMargin before expiry, else a new one. */
  async getToken(signal?: AbortSignal): Promise<string> {
    const margin = this.opts.refreshMarginMs ?? 120_000;
    if (this.token !== undefined && this.info !== undefined && this.info.expiresAt.getTime() - margin > this.now()) return this.token;
    // one authentication at a time: concurrent callers share it
    this.pending ??= this.authenticate(signal).finally(() => {
      this.pending = undefined;
    });
    return await this.pending;
  }

  /** Forget the token (after a 401 from a service): the next getToken authenticates. */
  invalidate(): void {
    this.token = undefined;
    this.info = undefined;
  }

  /** Details of the current token (after getToken). */
  tokenInfo(): TokenInfo | undefined {
    return this.info;
  }

  async authenticate(signal?: AbortSignal): Promise<string> {
    const url = `${this.credentials.authUrl}/auth/tokens`;
    let res;
    try {
      res = await requestJson({ method: 'POST', url, service: 'Keystone', body: authBody(this.credentials) }, {
        ...this.opts,
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (e instanceof HttpStatusError && e.status === 401) {
        throw new StethError('EPERM', `Keystone at ${new URL(url).origin} rejected the credentials from ${this.credentials.source}`, {
          hint: this.credentials.method === 'password'
            ? 'check username, password and user domain (OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME)'
            : 'check the application credential id/name and secret, and that it has not expired',
          detail: { status: 401 },
          cause: e,
        });
      }
      if (e instanceof HttpStatusError && e.status === 404) {
        throw new StethError('ECONFIG', `Keystone v3 is not at ${this.credentials.authUrl} (404)`, { hint: 'auth_url should be the Keystone endpoint, e.g. http://keystone:5000/v3' });
      }
      throw e;
    }
    const token = res.headers.get('x-subject-token');
    if (!token) throw new StethError('EAGENT', 'Keystone answered without an X-Subject-Token header', { hint: 'is auth_url really Keystone v3?' });
    const parsed = TokenBodySchema.safeParse(res.body);
    if (!parsed.success) throw new StethError('EAGENT', `Keystone's token body is not what v3 returns: ${parsed.error.issues[0]?.message ?? ''}`);
    const t = parsed.data.token;
    const expiresAt = new Date(t.expires_at);
    if (Number.isNaN(expiresAt.getTime())) throw new StethError('EAGENT', `Keystone's token has an unreadable expires_at '${t.expires_at}'`);
    const info: TokenInfo = { expiresAt, roles: (t.roles ?? []).map((r) => r.name), catalog: t.catalog ?? [] };
    if (t.user?.id) info.userId = t.user.id;
    if (t.project?.id) info.projectId = t.project.id;
    if (t.project?.name) info.projectName = t.project.name;
    this.token = token;
    this.info = info;
    this.authCount++;
    this.opts.log?.(`Keystone: token for ${t.user?.name ?? t.user?.id ?? '?'} until ${t.expires_at}`);
    return token;
  }

  /** Endpoint URL of a service type (credentials' interface and region unless given). */
  async endpoint(type: string, opts: { interface?: Interface; region?: string; signal?: AbortSignal } = {}): Promise<string> {
    await this.getToken(opts.signal);
    const region = opts.region ?? this.credentials.regionName;
    return selectEndpoint(this.info?.catalog ?? [], type, opts.interface ?? this.credentials.interface, region);
  }

  toJSON(): unknown {
    return { authUrl: this.credentials.authUrl, source: this.credentials.source, hasToken: this.token !== undefined };
  }

  [inspect.custom](): unknown {
    return this.toJSON();
  }
}
