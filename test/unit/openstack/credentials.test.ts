/**
 * Credential sources: OS_* variables, clouds.yaml (+ secure.yaml), the original
 * steth.conf [neutron_client] with its v2.0 auth_url upgraded to v3, precedence,
 * and that secrets never serialise.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { StethError } from '../../../src/errors.js';
import {
  credentialsFromCloudsYaml, credentialsFromEnv, credentialsFromStethConf, redact, resolveCredentials, toV3AuthUrl,
} from '../../../src/openstack/credentials.js';
import { authBody } from '../../../src/openstack/keystone.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'steth-os-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('toV3AuthUrl upgrades v2.0, keeps v3, adds v3 to a bare endpoint', (t) => {
  t.is(toV3AuthUrl('http://ctl:35357/v2.0'), 'http://ctl:35357/v3');
  t.is(toV3AuthUrl('http://ctl:5000/v2.0/'), 'http://ctl:5000/v3');
  t.is(toV3AuthUrl('https://ctl/identity/v3'), 'https://ctl/identity/v3');
  t.is(toV3AuthUrl('http://ctl:5000'), 'http://ctl:5000/v3');
  t.is(t.throws(() => toV3AuthUrl('ctl:5000'), { instanceOf: StethError })!.code, 'ECONFIG');
  t.is(t.throws(() => toV3AuthUrl('ftp://ctl/v3'), { instanceOf: StethError })!.code, 'ECONFIG');
});

test('OS_* env: password credentials with domains defaulting to "default"', (t) => {
  const c = credentialsFromEnv({ OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_PASSWORD: 'pw', OS_TENANT_NAME: 'p', OS_REGION_NAME: 'R1', OS_ENDPOINT_TYPE: 'internalURL' })!;
  t.like(c, { method: 'password', username: 'u', projectName: 'p', userDomainId: 'default', projectDomainId: 'default', regionName: 'R1', interface: 'internal' });
  t.is(c.secret, 'pw');
  t.is(credentialsFromEnv({ OS_USERNAME: 'u' }), undefined);
});

test('OS_* env: missing password and unsupported auth type are ECONFIG', (t) => {
  t.is(t.throws(() => credentialsFromEnv({ OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u' }), { instanceOf: StethError })!.code, 'ECONFIG');
  t.is(t.throws(() => credentialsFromEnv({ OS_AUTH_URL: 'http://k/v3', OS_AUTH_TYPE: 'v3oidcpassword', OS_USERNAME: 'u', OS_PASSWORD: 'x' }), { instanceOf: StethError })!.code, 'ECONFIG');
});

test('application credential by name carries its user in the auth body', (t) => {
  const c = credentialsFromEnv({ OS_AUTH_URL: 'http://k/v3', OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_NAME: 'steth', OS_USERNAME: 'ops', OS_USER_DOMAIN_NAME: 'Default', OS_APPLICATION_CREDENTIAL_SECRET: 'sek' })!;
  t.deepEqual(authBody(c), {
    auth: { identity: { methods: ['application_credential'], application_credential: { secret: 'sek', name: 'steth', user: { name: 'ops', domain: { name: 'Default' } } } } },
  });
});

test('clouds.yaml: the named cloud, merged with secure.yaml', (t) => {
  const d = tmp(t);
  writeFileSync(join(d, 'clouds.yaml'), [
    'clouds:',
    '  lab:',
    '    auth:',
    '      auth_url: http://127.0.0.1:5000/v2.0',
    '      username: admin',
    '      project_name: admin',
    '      user_domain_name: Default',
    '      project_domain_name: Default',
    '    region_name: RegionOne',
    '    interface: internal',
    '  other:',
    '    auth: {auth_url: "http://x/v3", username: a, password: b}',
  ].join('\n'));
  writeFileSync(join(d, 'secure.yaml'), 'clouds:\n  lab:\n    auth:\n      password: from-secure\n');
  const c = credentialsFromCloudsYaml('lab', { files: [join(d, 'clouds.yaml')] });
  t.like(c, { authUrl: 'http://127.0.0.1:5000/v3', username: 'admin', projectName: 'admin', userDomainName: 'Default', regionName: 'RegionOne', interface: 'internal' });
  t.is(c.secret, 'from-secure');
  t.regex(c.source, /clouds\.yaml cloud 'lab'/);
});

test('clouds.yaml: unknown cloud names the clouds that exist; a missing file says where it looked', (t) => {
  const d = tmp(t);
  writeFileSync(join(d, 'clouds.yaml'), 'clouds:\n  a: {auth: {auth_url: "http://x/v3", username: u, password: p}}\n');
  const e = t.throws(() => credentialsFromCloudsYaml('nope', { files: [join(d, 'clouds.yaml')] }), { instanceOf: StethError })!;
  t.is(e.code, 'ECONFIG');
  t.is(e.hint, 'clouds there: a');
  const e2 = t.throws(() => credentialsFromCloudsYaml('a', { files: [join(d, 'missing.yaml')] }), { instanceOf: StethError })!;
  t.regex(e2.hint ?? '', /missing\.yaml/);
});

test('steth.conf [neutron_client]: original keys, v2.0 auth_url upgraded', (t) => {
  const c = credentialsFromStethConf({ raw: { username: 'admin', password: 'adminpw', tenant_name: 'admin', auth_url: 'http://node-1:35357/v2.0' } })!;
  t.like(c, { authUrl: 'http://node-1:35357/v3', username: 'admin', projectName: 'admin', source: 'steth.conf [neutron_client]' });
  t.is(c.secret, 'adminpw');
  t.is(credentialsFromStethConf({ raw: {} }), undefined);
});

test('precedence: --os-cloud over OS_CLOUD over OS_* over steth.conf', (t) => {
  const d = tmp(t);
  const f = join(d, 'clouds.yaml');
  writeFileSync(f, 'clouds:\n  a: {auth: {auth_url: "http://a/v3", username: ua, password: pa}}\n  b: {auth: {auth_url: "http://b/v3", username: ub, password: pb}}\n');
  const conf = { raw: { username: 'uc', password: 'pc', auth_url: 'http://c/v2.0' } };
  const env = { OS_CLOUD: 'b', OS_AUTH_URL: 'http://e/v3', OS_USERNAME: 'ue', OS_PASSWORD: 'pe' };
  t.is(resolveCredentials({ cloud: 'a', env, neutronConfig: conf, cloudsFiles: [f] })!.username, 'ua');
  t.is(resolveCredentials({ env, neutronConfig: conf, cloudsFiles: [f] })!.username, 'ub');
  t.is(resolveCredentials({ env: { ...env, OS_CLOUD: '' }, neutronConfig: conf })!.username, 'ue');
  t.is(resolveCredentials({ env: {}, neutronConfig: conf })!.username, 'uc');
  t.is(resolveCredentials({ env: {} }), undefined);
});

test('secrets never serialise: JSON, inspect, spread', (t) => {
  const c = credentialsFromEnv({ OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'Sup3rS3cret' })!;
  t.false(JSON.stringify(c).includes('Sup3rS3cret'));
  t.false(inspect(c, { showHidden: false }).includes('Sup3rS3cret'));
  t.false(JSON.stringify({ ...c }).includes('Sup3rS3cret'));
  t.is(c.secret, 'Sup3rS3cret');
  t.is(redact('pw=Sup3rS3cret!', [c.secret]), 'pw=***!');
});
