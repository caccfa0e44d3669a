/**
 * A fake Keystone v3 + Neutron v2.0 on a local node:http server (127.0.0.1,
 * ephemeral port) for the client paths a real plane cannot produce on demand:
 * multi-segment networks, expiring tokens, 5xx bursts, 401/403/404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  token: string | undefined;
  body: unknown;
}

export type Handler = (req: FakeRequest, res: ServerResponse) => boolean | void;

export interface FakeCloud {
  url: string;
  authUrl: string;
  requests: FakeRequest[];
  /** tokens issued so far */
  tokens: string[];
  /** extra handlers tried first (return true when handled) */
  handlers: Handler[];
  /** resources served by GET /v2.0/{collection}/{id} and listed by GET /v2.0/{collection} */
  resources: Record<string, Record<string, unknown>[]>;
  /** token lifetime in ms for new tokens */
  tokenTtlMs: number;
  /** revoke every token issued so far (Neutron answers 401 for them) */
  revokeAll(): void;
  close(): Promise<void>;
}

export const PASSWORD = 's3cret-Pa55word';
export const APP_SECRET = 'app-cred-s3cret-XYZ';
export const APP_ID = '0f2d4c7e8a9b4c1d9e0f1a2b3c4d5e6f';

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const t = Buffer.concat(chunks).toString('utf8');
  if (t === '') return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

export async function startFakeCloud(opts: { regions?: string[]; interfaces?: string[] } = {}): Promise<FakeCloud> {
  let server: Server;
  let n = 0;
  const revoked = new Set<string>();
  const expiry = new Map<string, number>();
  const cloud: FakeCloud = {
    url: '',
    authUrl: '',
    requests: [],
    tokens: [],
    handlers: [],
    resources: { ports: [], networks: [], subnets: [], agents: [], segments: [] },
    tokenTtlMs: 3_600_000,
    revokeAll() {
      for (const t of cloud.tokens) revoked.add(t);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://x');
      const fr: FakeRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, token: req.headers['x-auth-token'] as string | undefined, body };
      cloud.requests.push(fr);
      for (const h of cloud.handlers) if (h(fr, res) === true) return;
      if (url.pathname === '/identity/v3/auth/tokens' && req.method === 'POST') {
        const id = (body as { auth?: { identity?: Record<string, unknown> } })?.auth?.identity ?? {};
        const methods = id.methods as string[] | undefined;
        let ok = false;
        if (methods?.[0] === 'password') {
          const u = (id.password as { user?: { name?: string; password?: string } })?.user;
          ok = u?.name === 'admin' && u.password === PASSWORD;
        } else if (methods?.[0] === 'application_credential') {
          const ac = id.application_credential as { id?: string; secret?: string };
          ok = ac?.id === APP_ID && ac.secret === APP_SECRET;
        }
        if (!ok) return json(res, 401, { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
        const token = `tok-${++n}-abcdefabcdef`;
        cloud.tokens.push(token);
        const exp = Date.now() + cloud.tokenTtlMs;
        expiry.set(token, exp);
        const regions = opts.regions ?? ['RegionOne'];
        const ifaces = opts.interfaces ?? ['public', 'internal', 'admin'];
        const endpoints = regions.flatMap((r) => ifaces.map((i) => ({ interface: i, region: r, region_id: r, url: `${cloud.url}/${r}/${i}/network` })));
        return json(res, 201, {
          token: {
            expires_at: new Date(exp).toISOString(),
            methods,
            user: { id: 'u1', name: 'admin' },
            project: { id: 'p1', name: 'admin' },
            roles: [{ name: 'admin' }],
            catalog: [
              { type: 'identity', endpoints: [{ interface: 'public', region: 'RegionOne', url: `${cloud.url}/identity` }] },
              { type: 'network', name: 'neutron', endpoints },
            ],
          },
        }, { 'X-Subject-Token': token });
      }
      const m = /^\/[^/]+\/[^/]+\/network\/v2\.0\/(.*)$/.exec(url.pathname);
      if (m) {
        if (!fr.token || revoked.has(fr.token) || !expiry.has(fr.token) || expiry.get(fr.token)! < Date.now()) {
          return json(res, 401, { error: { message: 'Authentication required' } });
        }
        const parts = m[1]!.split('/');
        const coll = parts[0]!;
        const store = cloud.resources[coll];
        if (!store) return json(res, 404, { NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } });
        const singular = coll.replace(/s$/, '');
        if (parts.length === 1) {
          let items = store;
          for (const [k, v] of url.searchParams) items = items.filter((it) => String((it as Record<string, unknown>)[k]) === v);
          return json(res, 200, { [coll]: items });
        }
        if (parts.length === 3 && coll === 'networks' && parts[2] === 'dhcp-agents') {
          const agents = cloud.resources.agents!.filter((a) => Array.isArray(a.networks) && (a.networks as string[]).includes(parts[1]!));
          return json(res, 200, { agents });
        }
        const item = store.find((x) => x.id === parts[1]);
        if (!item) return json(res, 404, { NeutronError: { type: `${singular[0]!.toUpperCase()}${singular.slice(1)}NotFound`, message: `${singular} ${parts[1]} could not be found.`, detail: '' } });
        return json(res, 200, { [singular]: item });
      }
      json(res, 404, { error: { message: `no route ${url.pathname}` } });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  cloud.url = `http://127.0.0.1:${port}`;
  cloud.authUrl = `${cloud.url}/identity/v3`;
  return cloud;
}

export const IDS = {
  port: '11111111-2222-4333-8444-555555555555',
  net: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
  subnet: 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff',
  dhcpPort: '99999999-8888-4777-8666-555555555555',
  dhcpAgent: 'dddddddd-0000-4000-8000-000000000001',
  ovsAgent: 'dddddddd-0000-4000-8000-000000000002',
  segA: 'cccccccc-0000-4000-8000-00000000000a',
  segB: 'cccccccc-0000-4000-8000-00000000000b',
};

/** A bound port on a VLAN provider network with one DHCP agent. */
export function seedSimple(cloud: FakeCloud): void {
  cloud.resources.networks!.push({
    id: IDS.net, name: 'net1', status: 'ACTIVE', admin_state_up: true, mtu: 1500, subnets: [IDS.subnet],
    'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 101,
  });
  cloud.resources.subnets!.push({ id: IDS.subnet, name: 's1', network_id: IDS.net, cidr: '10.9.0.0/24', ip_version: 4, gateway_ip: '10.9.0.1', enable_dhcp: true, segment_id: null });
  cloud.resources.ports!.push({
    id: IDS.port, name: 'vm1', network_id: IDS.net, mac_address: 'FA:16:3E:00:00:01', fixed_ips: [{ subnet_id: IDS.subnet, ip_address: '10.9.0.10' }],
    device_owner: 'compute:nova', device_id: 'vm-1', status: 'ACTIVE', admin_state_up: true,
    'binding:host_id': 'compute-2', 'binding:vif_type': 'ovs', 'binding:vif_details': { ovs_hybrid_plug: false, datapath_type: 'netdev' }, 'binding:vnic_type': 'normal',
  });
  cloud.resources.ports!.push({
    id: IDS.dhcpPort, name: '', network_id: IDS.net, mac_address: 'fa:16:3e:00:00:02', fixed_ips: [{ subnet_id: IDS.subnet, ip_address: '10.9.0.2' }],
    device_owner: 'network:dhcp', device_id: 'dhcpxxx', status: 'ACTIVE', admin_state_up: true, 'binding:host_id': 'network-1',
  });
  cloud.resources.agents!.push({ id: IDS.dhcpAgent, agent_type: 'DHCP agent', binary: 'neutron-dhcp-agent', host: 'network-1', alive: true, admin_state_up: true, networks: [IDS.net] });
  cloud.resources.agents!.push({ id: IDS.ovsAgent, agent_type: 'Open vSwitch agent', binary: 'neutron-openvswitch-agent', host: 'compute-2', alive: true, admin_state_up: true, configurations: { bridge_mappings: { physnet2: 'br-phys2' }, tunnel_types: [] } });
}
