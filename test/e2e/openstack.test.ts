/**
 * Against a REAL Neutron control plane (`steth lab up --openstack`: keystone,
 * neutron-server, OVS + DHCP agents, rabbitmq, mariadb from Debian's packages):
 * Keystone auth (good/bad password), catalog, port lookup, provider fields, DHCP
 * agents of a network, the port resolver; a real DHCP lease across the wire;
 * check-dhcp on a port of compute-2 with the real segmentation VLAN; print-agents-info
 * with the real agents from Neutron; and the verdict once the real dnsmasq is stopped.
 *
 * Heavy (~1.5 GB, tens of seconds to come up): one plane for the whole file.
 * Skipped, with the reason in the title, when not root or when the packages are
 * missing and cannot be installed.
 */
import anyTest, { type TestFn } from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StethError } from '../../src/errors.js';
import { run } from '../../src/host/exec.js';
import {
  credentialsFromCloudsYaml, credentialsFromEnv, KeystoneSession, NeutronClient, neutronClient, resolvePortViaNeutron, type Credentials,
} from '../../src/openstack/index.js';
import { ensurePackages, missingPackages, openstackDown, openstackUp, type OpenstackLabState } from '../../src/lab/openstack/index.js';

const STETH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth.js');

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, OVS, daemons)';
  if (process.env.STETH_SKIP_OPENSTACK) return 'STETH_SKIP_OPENSTACK is set';
  try {
    if ((await missingPackages()).length > 0) await ensurePackages();
  } catch (e) {
    return `OpenStack packages cannot be installed here: ${(e as Error).message.slice(0, 120)}`;
  }
  return undefined;
}

const reason = await skipReason();
const test: TestFn = reason === undefined ? anyTest : (Object.assign(
  (title: string) => anyTest.skip(`${title} [skipped: ${reason}]`, () => undefined),
  { serial: (title: string) => anyTest.skip(`${title} [skipped: ${reason}]`, () => undefined), before: () => undefined, after: { always: () => undefined } },
) as unknown as TestFn);

const prefix = `os${randomBytes(2).toString('hex')}`;
let lab: OpenstackLabState;
let creds: Credentials;

test.before(async (t) => {
  t.timeout(20 * 60_000, 'a real control plane on a shared 2-core machine');
  lab = await openstackUp({ prefix, install: false });
  creds = credentialsFromCloudsYaml(lab.cloud, { files: [lab.cloudsYaml] });
});

test.after.always(async (t) => {
  t.timeout(3 * 60_000);
  await openstackDown(prefix);
});

const vmPort = (node: string) => lab.ports.find((p) => p.node === node)!;

test.serial('keystone: the lab admin password gets a token whose catalog has the network service', async (t) => {
  const s = new KeystoneSession(creds);
  await s.getToken();
  const info = s.tokenInfo()!;
  t.true(info.roles.includes('admin'));
  t.true(info.expiresAt.getTime() > Date.now());
  t.true(info.catalog.some((svc) => svc.type === 'network'));
});

test.serial('keystone: a wrong password is EPERM "rejected the credentials"', async (t) => {
  const bad = credentialsFromEnv({ OS_AUTH_URL: lab.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: 'not-the-password', OS_PROJECT_NAME: 'admin' })!;
  const e = await t.throwsAsync(new KeystoneSession(bad).getToken(), { instanceOf: StethError });
  t.is(e!.code, 'EPERM');
  t.regex(e!.message, /rejected the credentials/);
});

test.serial('catalog: the public network endpoint is the lab\'s Neutron, the internal one loopback', async (t) => {
  const s = new KeystoneSession(creds);
  t.is(await s.endpoint('network'), lab.neutronUrl);
  t.is(await s.endpoint('network', { interface: 'internal' }), 'http://127.0.0.1:9696');
});

test.serial('port lookup: the VM port on compute-2 is bound there, with the MAC its VM uses', async (t) => {
  const n = neutronClient(creds);
  const lp = vmPort('compute-2');
  const p = await n.getPort(lp.id);
  t.is(p['binding:host_id'], 'compute-2');
  t.is(p.mac_address, lp.mac);
  t.is(p.status, 'ACTIVE');
  t.is(p['binding:vif_type'], 'ovs');
  const vmMac = (await run('ip', ['-json', 'link', 'show', 'dev', 'eth0'], { netns: lp.vmNetns })).stdout;
  t.is(JSON.parse(vmMac)[0].address, lp.mac);
});

test.serial('port lookup: an unknown port is ENOENT', async (t) => {
  const e = await t.throwsAsync(neutronClient(creds).getPort('00000000-0000-4000-8000-000000000000'), { instanceOf: StethError });
  t.is(e!.code, 'ENOENT');
});

test.serial('network provider fields: vlan on physnet1 with the lab segmentation id', async (t) => {
  const net = await neutronClient(creds).getNetwork(lab.networks[0]!.id);
  t.is(net['provider:network_type'], 'vlan');
  t.is(net['provider:physical_network'], 'physnet1');
  t.is(net['provider:segmentation_id'], lab.networks[0]!.segmentationId);
  t.is(net.mtu, 1500);
});

test.serial('dhcp agents of the network: the DHCP agent on network-1, alive', async (t) => {
  const agents = await neutronClient(creds).dhcpAgentsHostingNetwork(lab.networks[0]!.id);
  t.deepEqual(agents.map((a) => [a.agent_type, a.host, a.alive]), [['DHCP agent', 'network-1', true]]);
});

test.serial('resolvePortViaNeutron: host, MAC, fixed IP, segmentation VLAN, MTU and the DHCP server of the compute-2 port', async (t) => {
  const lp = vmPort('compute-2');
  const m = await resolvePortViaNeutron(lp.id, { neutron: new NeutronClient(new KeystoneSession(creds)) });
  t.is(m.host, 'compute-2');
  t.is(m.mac, lp.mac);
  t.deepEqual(m.fixedIps.map((f) => f.ip), [lp.ip]);
  t.like(m.network, { type: 'vlan', physicalNetwork: 'physnet1', segmentationId: lab.networks[0]!.segmentationId, mtu: 1500 });
  t.is(m.hybrid, false);
  t.is(m.dhcp.length, 1);
  t.like(m.dhcp[0], { host: 'network-1', alive: true, ip: lab.networks[0]!.dhcp.ip, mac: lab.networks[0]!.dhcp.mac });
});

test.serial('the real dnsmasq on network-1 leases the fixed IP to udhcpc in the VM on compute-2, across the wire', async (t) => {
  const lp = vmPort('compute-2');
  const r = await run('udhcpc', ['-i', lp.vmIface, '-n', '-q', '-f', '-t', '6', '-T', '2', '-s', '/bin/true'], { netns: lp.vmNetns, timeoutMs: 30_000, allowFail: true });
  t.regex(`${r.stdout}${r.stderr}`, new RegExp(`lease of ${lp.ip.replace(/\./g, '\\.')} obtained`));
});

interface StethRun { code: number; json: any; stdout: string; stderr: string }

function steth(args: string[]): Promise<StethRun> {
  const env = { ...process.env, OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, OS_CLOUD: lab.cloud };
  return new Promise((resolve) => {
    execFile(process.execPath, [STETH, '--config', lab.configPath, '-f', 'json', ...args], { env, timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, json, stdout, stderr });
    });
  });
}

const rowsOf = (r: StethRun): { role: string; node: string; discover: boolean | null; offer: boolean | null; discoverTags: string; offerTags: string }[] => r.json?.data?.verdict?.rows ?? [];

test.serial('check-dhcp on the compute-2 port passes across the wire, the real segmentation VLAN on both uplinks, DISCOVER seen in the real qdhcp namespace', async (t) => {
  const lp = vmPort('compute-2');
  const seg = String(lab.networks[0]!.segmentationId);
  const r = await steth(['check-dhcp', lp.id]);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.true(r.json.ok);
  t.is(r.json.data.port.source, 'neutron');
  t.is(r.json.data.port.host, 'compute-2');
  const up = rowsOf(r).find((x) => x.role === 'compute-uplink');
  const down = rowsOf(r).find((x) => x.role === 'dhcp-uplink');
  t.truthy(up, JSON.stringify(rowsOf(r)));
  t.is(up!.node, 'compute-2');
  t.is(up!.discoverTags, seg);
  t.is(down!.node, 'network-1');
  t.is(down!.discoverTags, seg);
  // the DHCP agent's own qdhcp namespace is reachable by the steth agent (host mount namespace)
  const qdhcp = rowsOf(r).find((x) => x.role === 'qdhcp');
  t.is(qdhcp?.discover, true, JSON.stringify(rowsOf(r)));
  t.is(r.json.data.verdict.offer.yiaddr, lp.ip);
});

test.serial('print-agents-info with the lab credentials lists the real OVS agents on network-1 and compute-2 and the DHCP agent on network-1, alive, each beside its steth agent', async (t) => {
  const r = await steth(['print-agents-info']);
  t.is(r.code, 0, r.json?.verdict ?? r.stderr);
  t.true(r.json.ok);
  t.deepEqual(r.json.data.agents.map((a: { name: string; reachable: boolean }) => [a.name, a.reachable]), [['network-1', true], ['compute-2', true]]);
  const n = r.json.data.neutron;
  t.is(n.source, `clouds.yaml cloud '${lab.cloud}' (${lab.cloudsYaml})`);
  t.deepEqual(n.agents.map((a: { host: string; type: string; binary: string; alive: boolean; adminStateUp: boolean; stethAgent: string | null }) => [a.host, a.type, a.binary, a.alive, a.adminStateUp, a.stethAgent]), [
    ['compute-2', 'Open vSwitch agent', 'neutron-openvswitch-agent', true, true, 'compute-2'],
    ['network-1', 'DHCP agent', 'neutron-dhcp-agent', true, true, 'network-1'],
    ['network-1', 'Open vSwitch agent', 'neutron-openvswitch-agent', true, true, 'network-1'],
  ]);
  t.deepEqual(n.notes, []);
  t.regex(r.json.verdict, /^all 2 agents answer; Neutron: all 3 agents alive$/);
});

test.serial('after the real dnsmasq is stopped, check-dhcp fails and says dnsmasq is not running', async (t) => {
  const lp = vmPort('compute-2');
  const net = lab.networks[0]!;
  const pidText = await run('cat', [join(lab.nodes[0]!.rundir, 'state', 'dhcp', net.id, 'pid')]);
  const pid = Number(pidText.stdout.trim());
  t.true(Number.isInteger(pid) && pid > 1);
  process.kill(pid, 'SIGTERM');
  const r = await steth(['check-dhcp', lp.id]);
  t.is(r.code, 1, r.stderr);
  t.false(r.json.ok);
  t.regex(r.json.verdict, /dnsmasq/);
});
