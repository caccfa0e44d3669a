/**
 * Neutron v2.0 over a Keystone session: ports, networks (provider:* and
 * multi-segment `segments`), subnets, segments, agents and the DHCP agents
 * hosting a network. Reads are validated with zod (passthrough: fields we do
 * not model are kept); a 401 from Neutron re-authenticates once (the token may
 * have been revoked or expired early); 403 and 404 become errors that say what
 * to do.
 */
import { z } from 'zod';
import { StethError } from '../errors.js';
import { assertUuid } from '../validate.js';
import { HttpStatusError, requestJson, type HttpOptions } from './http.js';
import type { KeystoneSession } from './keystone.js';

const FixedIp = z.object({ subnet_id: z.string(), ip_address: z.string() });
export const PortSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  network_id: z.string(),
  mac_address: z.string(),
  fixed_ips: z.array(FixedIp).default([]),
  device_id: z.string().nullish(),
  device_owner: z.string().nullish(),
  status: z.string().nullish(),
  admin_state_up: z.boolean().nullish(),
  'binding:host_id': z.string().nullish(),
  'binding:vif_type': z.string().nullish(),
  'binding:vif_details': z.record(z.unknown()).nullish(),
  'binding:vnic_type': z.string().nullish(),
  'binding:profile': z.record(z.unknown()).nullish(),
}).passthrough();
export type Port = z.infer<typeof PortSchema>;

const Segment = z.object({
  'provider:network_type': z.string().nullish(),
  'provider:physical_network': z.string().nullish(),
  'provider:segmentation_id': z.number().nullish(),
});
export const NetworkSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  status: z.string().nullish(),
  admin_state_up: z.boolean().nullish(),
  mtu: z.number().nullish(),
  subnets: z.array(z.string()).default([]),
  shared: z.boolean().nullish(),
  'router:external': z.boolean().nullish(),
  segments: z.array(Segment).nullish(),
}).merge(Segment).passthrough();
export type Network = z.infer<typeof NetworkSchema>;

export const SubnetSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  network_id: z.string(),
  cidr: z.string(),
  ip_version: z.number(),
  gateway_ip: z.string().nullish(),
  enable_dhcp: z.boolean().nullish(),
  segment_id: z.string().nullish(),
  allocation_pools: z.array(z.object({ start: z.string(), end: z.string() })).nullish(),
}).passthrough();
export type Subnet = z.infer<typeof SubnetSchema>;

export const SegmentSchema = z.object({
  id: z.string(),
  network_id: z.string(),
  network_type: z.string(),
  physical_network: z.string().nullish(),
  segmentation_id: z.number().nullish(),
}).passthrough();
export type NeutronSegment = z.infer<typeof SegmentSchema>;

export const AgentSchema = z.object({
  id: z.string(),
  agent_type: z.string(),
  binary: z.string().nullish(),
  host: z.string(),
  alive: z.boolean(),
  admin_state_up: z.boolean().nullish(),
  availability_zone: z.string().nullish(),
  heartbeat_timestamp: z.string().nullish(),
  configurations: z.record(z.unknown()).nullish(),
}).passthrough();
export type Agent = z.infer<typeof AgentSchema>;

export type Filters = Record<string, string | number | boolean | readonly string[]>;

export interface NeutronOptions extends HttpOptions {
  /** use this base URL (with or without /v2.0) instead of the catalog */
  endpoint?: string;
}

export class NeutronClient {
  readonly session: KeystoneSession;
  private readonly opts: NeutronOptions;
  private base: string | undefined;

  constructor(session: KeystoneSession, opts: NeutronOptions = {}) {
    this.session = session;
    this.opts = opts;
    const override = opts.endpoint ?? session.credentials.networkEndpoint;
    if (override) this.base = NeutronClient.v2Base(override);
  }

  /** Catalog URLs come with or without /v2.0; requests always go to …/v2.0. */
  static v2Base(url: string): string {
    const u = url.replace(/\/+$/, '');
    return /\/v2\.0$/.test(u) ? u : `${u}/v2.0`;
  }

  async baseUrl(signal?: AbortSignal): Promise<string> {
    if (this.base === undefined) {
      this.base = NeutronClient.v2Base(await this.session.endpoint('network', signal ? { signal } : {}));
    }
    return this.base;
  }

  /** One request with the session token; a 401 re-authenticates once. */
  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const base = await this.baseUrl(signal);
    const url = `${base}/${path.replace(/^\/+/, '')}`;
    const httpOpts: HttpOptions = { ...this.opts, ...(signal ? { signal } : {}) };
    for (let round = 0; ; round++) {
      const token = await this.session.getToken(signal);
      try {
        const req = { method, url, service: 'Neutron', token, ...(body === undefined ? {} : { body }) };
        const res = await requestJson<T>(req, httpOpts);
        return res.body;
      } catch (e) {
        if (e instanceof HttpStatusError && e.status === 401 && round === 0) {
          this.session.invalidate();
          continue;
        }
        throw e;
      }
    }
  }

  private async show<S extends z.ZodTypeAny>(kind: string, id: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
    const cid = assertUuid(id);
    let body: unknown;
    try {
      body = await this.request('GET', `${kind}s/${cid}`, undefined, signal);
    } catch (e) {
      if (e instanceof HttpStatusError && e.status === 404) {
        throw new StethError('ENOENT', `Neutron has no ${kind} ${cid}`, {
          hint: kind === 'port' ? 'check the port id (openstack port list), and that these credentials see its project' : `check the ${kind} id`,
          detail: { status: 404, kind, id: cid },
          cause: e,
        });
      }
      throw e;
    }
    return parseOne(schema, kind, body);
  }

  private async list<S extends z.ZodTypeAny>(collection: string, key: string, schema: S, filters: Filters = {}, signal?: AbortSignal): Promise<z.infer<S>[]> {
    const body = await this.request('GET', `${collection}${query(filters)}`, undefined, signal);
    const arr = (body as Record<string, unknown> | undefined)?.[key];
    if (!Array.isArray(arr)) throw new StethError('EAGENT', `Neutron's ${collection} answer has no '${key}' list`);
    return arr.map((x) => parseOne(schema, key, x));
  }

  getPort(id: string, signal?: AbortSignal): Promise<Port> {
    return this.show('port', id, PortSchema, signal);
  }
  listPorts(filters: Filters = {}, signal?: AbortSignal): Promise<Port[]> {
    return this.list('ports', 'ports', PortSchema, filters, signal);
  }
  getNetwork(id: string, signal?: AbortSignal): Promise<Network> {
    return this.show('network', id, NetworkSchema, signal);
  }
  listNetworks(filters: Filters = {}, signal?: AbortSignal): Promise<Network[]> {
    return this.list('networks', 'networks', NetworkSchema, filters, signal);
  }
  getSubnet(id: string, signal?: AbortSignal): Promise<Subnet> {
    return this.show('subnet', id, SubnetSchema, signal);
  }
  listSubnets(filters: Filters = {}, signal?: AbortSignal): Promise<Subnet[]> {
    return this.list('subnets', 'subnets', SubnetSchema, filters, signal);
  }
  listSegments(filters: Filters = {}, signal?: AbortSignal): Promise<NeutronSegment[]> {
    return this.list('segments', 'segments', SegmentSchema, filters, signal);
  }
  listAgents(filters: Filters = {}, signal?: AbortSignal): Promise<Agent[]> {
    return this.list('agents', 'agents', AgentSchema, filters, signal);
  }
  /** GET /v2.0/networks/ID/dhcp-agents (admin). */
  async dhcpAgentsHostingNetwork(networkId: string, signal?: AbortSignal): Promise<Agent[]> {
    const id = assertUuid(networkId);
    try {
      return await this.list(`networks/${id}/dhcp-agents`, 'agents', AgentSchema, {}, signal);
    } catch (e) {
      if (e instanceof HttpStatusError && e.status === 404) throw new StethError('ENOENT', `Neutron has no network ${id}`, { cause: e });
      throw e;
    }
  }
  /** POST /v2.0/agents/AGENT/dhcp-networks (admin). */
  async addNetworkToDhcpAgent(agentId: string, networkId: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `agents/${assertUuid(agentId)}/dhcp-networks`, { network_id: assertUuid(networkId) }, signal);
  }
  /** DELETE /v2.0/agents/AGENT/dhcp-networks/NET (admin). */
  async removeNetworkFromDhcpAgent(agentId: string, networkId: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `agents/${assertUuid(agentId)}/dhcp-networks/${assertUuid(networkId)}`, undefined, signal);
  }

  async createNetwork(body: Record<string, unknown>, signal?: AbortSignal): Promise<Network> {
    const r = await this.request('POST', 'networks', { network: body }, signal);
    return parseOne(NetworkSchema, 'network', (r as Record<string, unknown>).network);
  }
  async createSubnet(body: Record<string, unknown>, signal?: AbortSignal): Promise<Subnet> {
    const r = await this.request('POST', 'subnets', { subnet: body }, signal);
    return parseOne(SubnetSchema, 'subnet', (r as Record<string, unknown>).subnet);
  }
  async createPort(body: Record<string, unknown>, signal?: AbortSignal): Promise<Port> {
    const r = await this.request('POST', 'ports', { port: body }, signal);
    return parseOne(PortSchema, 'port', (r as Record<string, unknown>).port);
  }
  async updatePort(id: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Port> {
    const r = await this.request('PUT', `ports/${assertUuid(id)}`, { port: body }, signal);
    return parseOne(PortSchema, 'port', (r as Record<string, unknown>).port);
  }
  async deletePort(id: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `ports/${assertUuid(id)}`, undefined, signal);
  }
  async deleteNetwork(id: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `networks/${assertUuid(id)}`, undefined, signal);
  }
}

function parseOne<S extends z.ZodTypeAny>(schema: S, what: string, body: unknown): z.infer<S> {
  const inner = typeof body === 'object' && body !== null && what in (body as object) ? (body as Record<string, unknown>)[what] : body;
  const r = schema.safeParse(inner);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new StethError('EAGENT', `Neutron's ${what} does not look like Neutron v2.0: ${i ? `${i.path.join('.')}: ${i.message}` : ''}`);
  }
  return r.data;
}

/** ?k=v&k=v2 for Neutron filters (arrays repeat the key). */
export function query(filters: Filters): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) {
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}
