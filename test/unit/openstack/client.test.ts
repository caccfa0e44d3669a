/**
 * Keystone v3 + Neutron v2.0 client against a fake cloud on 127.0.0.1: token
 * reuse and refresh, catalog selection, the 5xx retry policy, 401/403/404
 * mapping, multi-segment networks, and that no secret reaches a message or log.
 */
import test from 'ava';
import { inspect } from 'node:util';
import { StethError } from '../../../src/errors.js';
import {
  credentialsFromEnv, KeystoneSession, NeutronClient, neutronClient, resolvePortWith, selectEndpoint, type Credentials,
} from '../../../src/openstack/index.js';
import { APP_ID, APP_SECRET, IDS, json, PASSWORD, seedSimple, startFakeCloud, type FakeCloud } from './fake.js';

function creds(cloud: FakeCloud, extra: Record<string, string> = {}): Credentials {
  return credentialsFromEnv({ OS_AUTH_URL: cloud.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: PASSWORD, OS_PROJECT_NAME: 'admin', ...extra })!;
}

const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20 }, timeoutMs: 2000 };

async function withCloud(t: { teardown(fn: () => unknown): void }, opts?: Parameters<typeof startFakeCloud>[0]): Promise<FakeCloud> {
  const c = await startFakeCloud(opts);
  t.teardown(() => c.close());
  return c;
}

test('password auth: a token is issued and reused for later requests', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const n = neutronClient(creds(cloud), fast);
  await n.getPort(IDS.port);
  await n.getNetwork(IDS.net);
  t.is(n.session.authCount, 1);
  t.is(cloud.tokens.length, 1);
  const neutronReqs = cloud.requests.filter((r) => r.path.includes('/v2.0/'));
  t.true(neutronReqs.every((r) => r.token === cloud.tokens[0]));
  const auth = cloud.requests.find((r) => r.path.endsWith('/auth/tokens'))!;
  t.deepEqual((auth.body as any).auth.scope, { project: { name: 'admin', domain: { id: 'default' } } });
});

test('application credential auth sends id + secret and no scope', async (t) => {
  const cloud = await withCloud(t);
  const c = credentialsFromEnv({ OS_AUTH_URL: cloud.authUrl, OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: APP_ID, OS_APPLICATION_CREDENTIAL_SECRET: APP_SECRET })!;
  t.is(c.method, 'application_credential');
  const s = new KeystoneSession(c, fast);
  await s.getToken();
  const body = cloud.requests[0]!.body as any;
  t.deepEqual(body.auth.identity, { methods: ['application_credential'], application_credential: { id: APP_ID, secret: APP_SECRET } });
  t.is(body.auth.scope, undefined);
});

test('bad password → EPERM naming Keystone, without the password anywhere', async (t) => {
  const cloud = await withCloud(t);
  const lines: string[] = [];
  const c = credentialsFromEnv({ OS_AUTH_URL: cloud.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: 'wrong-password-42' })!;
  const s = new KeystoneSession(c, { ...fast, log: (l) => lines.push(l) });
  const e = await t.throwsAsync(s.getToken(), { instanceOf: StethError });
  t.is(e!.code, 'EPERM');
  t.regex(e!.message, /Keystone .* rejected the credentials/);
  const everything = JSON.stringify([e!.message, e!.hint, e!.detail, (e as StethError).toJSON(), lines, inspect(c), inspect(s), JSON.stringify(c)]);
  t.false(everything.includes('wrong-password-42'));
});

test('an expired token is refreshed before the next request', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  let now = Date.now();
  const n = neutronClient(creds(cloud), { ...fast, now: () => now, refreshMarginMs: 60_000 });
  await n.getPort(IDS.port);
  t.is(n.session.authCount, 1);
  now += 3_600_000; // past expires_at (minus the margin)
  await n.getPort(IDS.port);
  t.is(n.session.authCount, 2);
  const last = cloud.requests.at(-1)!;
  t.is(last.token, cloud.tokens[1]);
});

test('a token Neutron rejects with 401 is replaced once and the request succeeds', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const n = neutronClient(creds(cloud), fast);
  await n.getPort(IDS.port);
  cloud.revokeAll();
  const p = await n.getPort(IDS.port);
  t.is(p.id, IDS.port);
  t.is(n.session.authCount, 2);
});

test('Neutron answering 401 even to a fresh token → EPERM (no loop)', async (t) => {
  const cloud = await withCloud(t);
  cloud.handlers.push((r, res) => {
    if (r.path.includes('/v2.0/')) {
      json(res, 401, { error: { message: 'nope' } });
      return true;
    }
    return false;
  });
  const n = neutronClient(creds(cloud), fast);
  const e = await t.throwsAsync(n.getPort(IDS.port), { instanceOf: StethError });
  t.is(e!.code, 'EPERM');
  t.is(n.session.authCount, 2);
});

test('catalog: interface and region select the network endpoint', async (t) => {
  const cloud = await withCloud(t, { regions: ['RegionOne', 'RegionTwo'] });
  const s = new KeystoneSession(creds(cloud, { OS_REGION_NAME: 'RegionTwo', OS_INTERFACE: 'internal' }), fast);
  t.is(await s.endpoint('network'), `${cloud.url}/RegionTwo/internal/network`);
  t.is(await s.endpoint('network', { interface: 'admin', region: 'RegionOne' }), `${cloud.url}/RegionOne/admin/network`);
  const n = new NeutronClient(s, fast);
  t.is(await n.baseUrl(), `${cloud.url}/RegionTwo/internal/network/v2.0`);
});

test('catalog: several regions and none chosen → ECONFIG listing them', async (t) => {
  const cloud = await withCloud(t, { regions: ['RegionOne', 'RegionTwo'] });
  const s = new KeystoneSession(creds(cloud), fast);
  const e = await t.throwsAsync(s.endpoint('network'), { instanceOf: StethError });
  t.is(e!.code, 'ECONFIG');
  t.regex(e!.hint ?? '', /RegionOne, RegionTwo/);
});

test('catalog: unknown region and missing service are ECONFIG', (t) => {
  const catalog = [{ type: 'network', endpoints: [{ interface: 'public', region: 'R1', url: 'http://n/' }] }];
  t.is(selectEndpoint(catalog, 'network', 'public'), 'http://n');
  t.is(t.throws(() => selectEndpoint(catalog, 'network', 'public', 'R9'), { instanceOf: StethError })!.code, 'ECONFIG');
  t.is(t.throws(() => selectEndpoint(catalog, 'network', 'internal'), { instanceOf: StethError })!.code, 'ECONFIG');
  t.is(t.throws(() => selectEndpoint(catalog, 'compute', 'public'), { instanceOf: StethError })!.code, 'ECONFIG');
});

test('5xx retry: a GET that fails twice with 503 succeeds on the third attempt', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  let failures = 2;
  cloud.handlers.push((r, res) => {
    if (r.path.includes(`/ports/${IDS.port}`) && failures > 0) {
      failures--;
      json(res, 503, { error: { message: 'busy' } });
      return true;
    }
    return false;
  });
  const n = neutronClient(creds(cloud), fast);
  const p = await n.getPort(IDS.port);
  t.is(p.mac_address, 'FA:16:3E:00:00:01');
  t.is(cloud.requests.filter((r) => r.path.includes(`/ports/${IDS.port}`)).length, 3);
});

test('5xx retry is bounded: a GET failing with 500 every time gives up after 3 attempts with EAGENT', async (t) => {
  const cloud = await withCloud(t);
  cloud.handlers.push((r, res) => {
    if (r.path.includes('/v2.0/')) {
      json(res, 500, { NeutronError: { message: 'Request Failed: internal server error' } });
      return true;
    }
    return false;
  });
  const n = neutronClient(creds(cloud), fast);
  const e = await t.throwsAsync(n.listNetworks(), { instanceOf: StethError });
  t.is(e!.code, 'EAGENT');
  t.regex(e!.message, /500: Request Failed/);
  t.is(cloud.requests.filter((r) => r.path.includes('/v2.0/networks')).length, 3);
});

test('5xx retry: a POST is not retried on 500 (it may have been applied)', async (t) => {
  const cloud = await withCloud(t);
  cloud.handlers.push((r, res) => {
    if (r.method === 'POST' && r.path.includes('/v2.0/ports')) {
      json(res, 500, { NeutronError: { message: 'boom' } });
      return true;
    }
    return false;
  });
  const n = neutronClient(creds(cloud), fast);
  await t.throwsAsync(n.createPort({ network_id: IDS.net }), { instanceOf: StethError });
  t.is(cloud.requests.filter((r) => r.method === 'POST' && r.path.includes('/v2.0/ports')).length, 1);
});

test('403 → EPERM with the admin-token hint', async (t) => {
  const cloud = await withCloud(t);
  cloud.handlers.push((r, res) => {
    if (r.path.includes('/v2.0/agents')) {
      json(res, 403, { NeutronError: { type: 'PolicyNotAuthorized', message: 'rule:get_agent is disallowed by policy' } });
      return true;
    }
    return false;
  });
  const n = neutronClient(creds(cloud), fast);
  const e = await t.throwsAsync(n.listAgents(), { instanceOf: StethError });
  t.is(e!.code, 'EPERM');
  t.regex(e!.message, /403: rule:get_agent is disallowed/);
  t.regex(e!.hint ?? '', /binding:\* and provider:\* fields need an admin token/);
});

test('404 for an unknown port → ENOENT naming the port', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const n = neutronClient(creds(cloud), fast);
  const missing = '00000000-0000-4000-8000-000000000000';
  const e = await t.throwsAsync(n.getPort(missing), { instanceOf: StethError });
  t.is(e!.code, 'ENOENT');
  t.is(e!.message, `Neutron has no port ${missing}`);
});

test('a bad port id is EINVAL before any request', async (t) => {
  const cloud = await withCloud(t);
  const n = neutronClient(creds(cloud), fast);
  const e = await t.throwsAsync(resolvePortWith(n, 'not-a-uuid'), { instanceOf: StethError });
  t.is(e!.code, 'EINVAL');
  t.is(cloud.requests.length, 0);
});

test('a server that never answers → ETIMEDOUT after the per-attempt deadline', async (t) => {
  const cloud = await withCloud(t);
  cloud.handlers.push((r) => r.path.includes('/v2.0/')); // swallow: never respond
  const n = neutronClient(creds(cloud), { timeoutMs: 150, retry: { attempts: 2, baseDelayMs: 5 } });
  const e = await t.throwsAsync(n.listNetworks(), { instanceOf: StethError });
  t.is(e!.code, 'ETIMEDOUT');
});

test('a refused connection → EAGENT naming the endpoint', async (t) => {
  const cloud = await startFakeCloud();
  const url = cloud.authUrl;
  await cloud.close();
  const c = credentialsFromEnv({ OS_AUTH_URL: url, OS_USERNAME: 'admin', OS_PASSWORD: PASSWORD })!;
  const e = await t.throwsAsync(new KeystoneSession(c, fast).getToken(), { instanceOf: StethError });
  t.is(e!.code, 'EAGENT');
  t.regex(e!.message, /cannot reach Keystone at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
});

test('resolve: a bound port on a VLAN network → host, MAC, IPs, segment, MTU, DHCP server', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const m = await resolvePortWith(neutronClient(creds(cloud), fast), IDS.port);
  t.is(m.host, 'compute-2');
  t.is(m.mac, 'fa:16:3e:00:00:01');
  t.deepEqual(m.fixedIps, [{ subnetId: IDS.subnet, ip: '10.9.0.10', cidr: '10.9.0.0/24', gateway: '10.9.0.1', enableDhcp: true }]);
  t.like(m.network, { id: IDS.net, type: 'vlan', physicalNetwork: 'physnet1', segmentationId: 101, mtu: 1500, segmentAmbiguous: false });
  t.is(m.hybrid, false);
  t.deepEqual(m.devices, { tap: 'tap11111111-22', qbr: 'qbr11111111-22', qvb: 'qvb11111111-22', qvo: 'qvo11111111-22' });
  t.deepEqual(m.dhcp, [{ portId: IDS.dhcpPort, mac: 'fa:16:3e:00:00:02', ip: '10.9.0.2', host: 'network-1', agentId: IDS.dhcpAgent, alive: true, adminStateUp: true }]);
  t.deepEqual(m.warnings, []);
});

function seedMultiSegment(cloud: FakeCloud, subnetSegment: string | null): void {
  seedSimple(cloud);
  const net = cloud.resources.networks![0]!;
  delete net['provider:network_type'];
  delete net['provider:physical_network'];
  delete net['provider:segmentation_id'];
  net.segments = [
    { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 101 },
    { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet2', 'provider:segmentation_id': 202 },
  ];
  cloud.resources.subnets![0]!.segment_id = subnetSegment;
  cloud.resources.segments!.push({ id: IDS.segA, network_id: IDS.net, network_type: 'vlan', physical_network: 'physnet1', segmentation_id: 101 });
  cloud.resources.segments!.push({ id: IDS.segB, network_id: IDS.net, network_type: 'vlan', physical_network: 'physnet2', segmentation_id: 202 });
}

test('multi-segment network: the subnet\'s segment_id picks the port\'s segment', async (t) => {
  const cloud = await withCloud(t);
  seedMultiSegment(cloud, IDS.segA); // the host agent maps physnet2: segment_id must win
  const m = await resolvePortWith(neutronClient(creds(cloud), fast), IDS.port);
  t.is(m.network.segments.length, 2);
  t.like(m.network, { type: 'vlan', physicalNetwork: 'physnet1', segmentationId: 101, segmentAmbiguous: false });
});

test('multi-segment network without routed subnets: the host agent\'s bridge_mappings pick the segment', async (t) => {
  const cloud = await withCloud(t);
  seedMultiSegment(cloud, null);
  const m = await resolvePortWith(neutronClient(creds(cloud), fast), IDS.port);
  t.like(m.network, { physicalNetwork: 'physnet2', segmentationId: 202, segmentAmbiguous: false });
});

test('multi-segment network with nothing to decide by: first L2 segment, flagged ambiguous with a warning', async (t) => {
  const cloud = await withCloud(t);
  seedMultiSegment(cloud, null);
  cloud.resources.agents = cloud.resources.agents!.filter((a) => a.agent_type !== 'Open vSwitch agent');
  const m = await resolvePortWith(neutronClient(creds(cloud), fast), IDS.port);
  t.like(m.network, { segmentationId: 101, segmentAmbiguous: true });
  t.true(m.warnings.some((w) => w.includes('2 segments')));
});

test('a non-admin view (no binding:host_id) → EPERM with the admin-token hint', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const p = cloud.resources.ports![0]!;
  for (const k of Object.keys(p)) if (k.startsWith('binding:')) delete p[k];
  const e = await t.throwsAsync(resolvePortWith(neutronClient(creds(cloud), fast), IDS.port), { instanceOf: StethError });
  t.is(e!.code, 'EPERM');
  t.is(e!.hint, 'binding:* and provider:* fields need an admin token');
});

test('an unbound port → EFAULT saying it is not bound', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  cloud.resources.ports![0]!['binding:host_id'] = '';
  const e = await t.throwsAsync(resolvePortWith(neutronClient(creds(cloud), fast), IDS.port), { instanceOf: StethError });
  t.is(e!.code, 'EFAULT');
  t.regex(e!.message, /not bound/);
});

test('logs carry method, path and status but never the password or token', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const lines: string[] = [];
  const n = neutronClient(creds(cloud), { ...fast, log: (l) => lines.push(l) });
  await resolvePortWith(n, IDS.port);
  t.true(lines.some((l) => l.includes(`GET /RegionOne/public/network/v2.0/ports/${IDS.port} attempt 1: 200`)));
  const all = lines.join('\n') + inspect(n.session) + JSON.stringify(n.session);
  t.false(all.includes(PASSWORD));
  for (const tok of cloud.tokens) t.false(all.includes(tok));
});

test('neutronAgentRows: host, type, alive of every agent, sorted by host', async (t) => {
  const cloud = await withCloud(t);
  seedSimple(cloud);
  const { neutronAgentRows } = await import('../../../src/openstack/agents.js');
  const rows = await neutronAgentRows(neutronClient(creds(cloud), fast));
  t.deepEqual(rows.map((r) => [r.host, r.type, r.alive]), [['compute-2', 'Open vSwitch agent', true], ['network-1', 'DHCP agent', true]]);
});
