/** steth.conf parsing: the original sample, the new keys, and file:line:key errors. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseConfig, loadConfig } from '../../../src/config/load.js';
import { StethError } from '../../../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
// tests run from dist/test/...; the .conf fixtures stay in the source tree
const srcDir = here.replace(`${join('dist', 'test')}`, 'test');
const original = readFileSync(join(srcDir, 'original-steth.conf'), 'utf8');
const sample = readFileSync(join(srcDir, '..', '..', '..', 'agent', 'steth.conf.sample'), 'utf8');
const noFile = (p: string): string => {
  throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
};

test('the original sample steth.conf parses: network types, derived agents and addresses, neutron', (t) => {
  const c = parseConfig(original, '/etc/steth/steth.conf', noFile);
  t.deepEqual(c.networkTypes, [
    { type: 'mgmt', nic: 'eth0', prefix: '1.1.1.' },
    { type: 'net', nic: 'eth1', prefix: '2.2.2.' },
    { type: 'storage', nic: 'eth2', prefix: '3.3.3.' },
  ]);
  t.deepEqual(c.agents.map((a) => a.name), ['server-39', 'server-233', 'server-64', 'server-65', 'server-66']);
  const a = c.agents[2]!;
  t.is(a.url, 'http://server-64:9698');
  t.deepEqual(a.addresses, { mgmt: '1.1.1.64', net: '2.2.2.64', storage: '3.3.3.64' });
  t.deepEqual(a.nics, { mgmt: 'eth0', net: 'eth1', storage: 'eth2' });
  t.is(c.port, 9698);
  t.is(c.neutron?.projectName, 'admin');
  t.is(c.neutron?.authUrl, 'http://127.0.0.1:5000/v2.0');
  t.is(c.token, undefined);
});

test('the shipped steth.conf.sample parses (token_file read, [agent] sections, [steth_agent] ignored by the CLI)', (t) => {
  const c = parseConfig(sample, '/etc/steth/steth.conf', (p) => (p === '/etc/steth/token' ? 'tok\n' : noFile(p)));
  t.is(c.token, 'tok');
  t.is(c.timeoutMs, 30_000);
  t.is(c.concurrency, 16);
  const net = c.agents.find((a) => a.name === 'network-1')!;
  t.is(net.url, 'http://192.0.2.10:9698');
  t.is(net.role, 'network');
  t.is(net.addresses.net, '2.2.2.10');
  const comp = c.agents.find((a) => a.name === 'compute-1')!;
  t.is(comp.url, 'http://192.0.2.11:9698');
  t.is(c.agents.length, 7);
});

test('[agent NAME] overrides a derived agent and host+port builds the URL', (t) => {
  const c = parseConfig(
    'nodes_id=64\nnode_name_prefix=server-\nnetwork_types=net:eth1:2.2.2.\nport=9000\n\n[agent server-64]\nhost = 10.0.0.64\nrole = compute\nnet_nic = ens3\n\n[agent extra]\nurl = https://10.0.0.9:9698/\nmgmt_address = 10.0.0.9\n',
    'x.conf',
    noFile,
  );
  t.is(c.agents[0]!.url, 'http://10.0.0.64:9000');
  t.is(c.agents[0]!.nics.net, 'ens3');
  t.is(c.agents[0]!.addresses.net, '2.2.2.64');
  t.is(c.agents[1]!.url, 'https://10.0.0.9:9698');
  t.is(c.agents[1]!.addresses.mgmt, '10.0.0.9');
});

const bad: Array<[string, string, RegExp]> = [
  ['bad network type', 'network_types=mgmt:eth0:1.1.1.,wan:eth9:4.4.4.\n', /^bad\.conf:1:network_types: unknown network type 'wan'/],
  ['network_types item without 3 parts', '\n\nnetwork_types=mgmt:eth0\n', /^bad\.conf:3:network_types: 'mgmt:eth0' is not type:nic:prefix/],
  ['bad nic name', 'network_types=mgmt:eth0;reboot:1.1.1.\n', /^bad\.conf:1:network_types: .*characters/],
  ['bad prefix', 'network_types=mgmt:eth0:1.1.999.\n', /^bad\.conf:1:network_types: '1\.1\.999\.' is not an address prefix/],
  ['bad port', '# c\nport = 70000\n', /^bad\.conf:2:port: '70000' is not a whole number in 1\.\.65535/],
  ['bad timeout', 'timeout = soon\n', /^bad\.conf:1:timeout:/],
  ['unknown agent key', '[agent a]\nurl = http://x:1\nurll = http://y\n', /^bad\.conf:3:urll: unknown key in \[agent a\]/],
  ['bad agent url', '[agent a]\nurl = ftp://x\n', /^bad\.conf:2:url: scheme ftp: is not http or https/],
  ['bad role', '[agent a]\nhost = x\nrole = controller\n', /^bad\.conf:3:role: 'controller' is not network or compute/],
  ['bad address', '[agent a]\nhost = x\nnet_address = 10.0.0\n', /^bad\.conf:3:net_address: '10\.0\.0' is not an IPv4 address/],
  ['agent without name', '[agent]\nurl = http://x:1\n', /^bad\.conf:1:agent: agent sections need a name/],
  ['agent without address', '[agent a]\nrole = compute\n', /^bad\.conf:1:agent a: needs url, host or mgmt_address/],
  ['key set twice', 'port = 1\nport = 2\n', /^bad\.conf:2:port: set twice in \[DEFAULT\] \(first at line 1\)/],
  ['section twice', '[agent a]\nhost=x\n[agent a]\nhost=y\n', /^bad\.conf:3: section \[agent a\] appears twice/],
  ['garbage line', '[DEFAULT]\nthis is not ini\n', /^bad\.conf:2: expected 'key = value'/],
  ['token and token_file', 'token = a\ntoken_file = /x\n', /^bad\.conf:2:token_file: set token or token_file, not both/],
  ['unreadable token_file', 'token_file = /nonexistent/steth-token\n', /^bad\.conf:1:token_file: cannot read \/nonexistent\/steth-token: ENOENT/],
  ['bad nodes_id', 'nodes_id = 1,2;3\n', /^bad\.conf:1:nodes_id: '2;3' is not a node id/],
];

for (const [name, text, re] of bad) {
  test(`bad config names file:line:key — ${name}`, (t) => {
    const e = t.throws(() => parseConfig(text, 'bad.conf', noFile));
    t.true(e instanceof StethError);
    t.is((e as StethError).code, 'ECONFIG');
    t.regex(e!.message, re);
  });
}

test('loadConfig: explicit missing file is ECONFIG; missing default is an empty config; STETH_TOKEN overrides', async (t) => {
  const e = await t.throwsAsync(loadConfig({ path: '/nonexistent/steth.conf', env: {} }));
  t.is((e as StethError).code, 'ECONFIG');
  const e2 = await t.throwsAsync(loadConfig({ env: { STETH_CONFIG: '/nonexistent/x.conf' } }));
  t.regex(e2!.message, /nonexistent\/x\.conf/);
  const c = await loadConfig({ env: { STETH_TOKEN: 'envtok' }, readFile: noFile });
  t.is(c.source, null);
  t.deepEqual(c.agents, []);
  t.is(c.token, 'envtok');
  const c2 = await loadConfig({ path: 'a.conf', env: { STETH_TOKEN: 'envtok' }, readFile: () => 'token = filetok\n' });
  t.is(c2.token, 'envtok');
});
