/** steth-agent flags: token sources, refusing a non-loopback listen without a token, TLS. */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentProgram, resolveSettings, startAgent } from '../../../agent/main.js';
import { AgentClient } from '../../../src/rpc/client.js';
import { agentHello } from '../../../agent/contract.js';
import { StethError } from '../../../src/errors.js';
import { hasTool } from '../../helpers/env.js';

const AGENT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'steth-agent.js');

function settings(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const p = agentProgram();
  p.exitOverride();
  p.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  p.parse(argv, { from: 'user' });
  return resolveSettings(p.opts(), { STETH_CONFIG: '/nonexistent-on-purpose', ...env });
}

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'steth-settings-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('a non-loopback listen without a token is refused unless --insecure', (t) => {
  const e = t.throws(() => settings(['--listen', '0.0.0.0', '--config', '/dev/null']));
  t.true(e instanceof StethError && e.code === 'ECONFIG');
  t.regex(e!.message, /refusing to listen on 0\.0\.0\.0 without a token/);
  t.true(settings(['--listen', '0.0.0.0', '--insecure', '--config', '/dev/null']).insecure);
  t.is(settings(['--listen', '127.0.0.1', '--config', '/dev/null']).token, undefined);
  t.is(settings(['--listen', '10.1.2.3', '--config', '/dev/null'], { STETH_TOKEN: 'from-env' }).token, 'from-env');
});

test('token sources: --token-file beats STETH_TOKEN beats config token_file / token', (t) => {
  const d = tmp(t);
  writeFileSync(join(d, 'tf'), 'file-token\n');
  writeFileSync(join(d, 'cf'), 'cfg-file-token\n');
  writeFileSync(join(d, 'a.conf'), `token_file = ${join(d, 'cf')}\n\n[steth_agent]\nlisten = 10.9.9.9\nport = 9777\nnode_name = n1\n`);
  t.is(settings(['--config', join(d, 'a.conf'), '--token-file', join(d, 'tf')], { STETH_TOKEN: 'env' }).token, 'file-token');
  t.is(settings(['--config', join(d, 'a.conf')], { STETH_TOKEN: 'env' }).token, 'env');
  const s = settings(['--config', join(d, 'a.conf')]);
  t.is(s.token, 'cfg-file-token');
  t.is(s.listen, '10.9.9.9');
  t.is(s.port, 9777);
  t.is(s.nodeName, 'n1');
  writeFileSync(join(d, 'empty'), '\n');
  t.throws(() => settings(['--config', '/dev/null', '--token-file', join(d, 'empty')]), { message: /is empty/ });
});

test('bad flags: port out of range and a bad --ovsdb are refused', (t) => {
  t.throws(() => settings(['--port', '70000']));
  t.throws(() => settings(['--listen', '127.0.0.1', '--config', '/dev/null', '--ovsdb', 'unix:relative;rm']), { message: /not an OVSDB remote/ });
});

test('the real process: refusing exits 2 with the reason on stderr; --help exits 0', async (t) => {
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    execFile(process.execPath, [AGENT, '--listen', '0.0.0.0', '--port', '0', '--config', '/dev/null'], { env: { PATH: process.env.PATH } }, (e, _o, err) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, err }));
  });
  t.is(r.code, 2);
  t.regex(r.err, /refusing to listen on 0\.0\.0\.0 without a token/);
  t.regex(r.err, /--insecure/);
  const help = execFileSync(process.execPath, [AGENT, '--help'], { encoding: 'utf8' });
  t.regex(help, /--token-file/);
  t.regex(help, /--tls-cert/);
});

(hasTool('openssl') ? test : test.skip)('TLS: the agent serves HTTPS with --tls-cert/--tls-key; the client verifies with the CA', async (t) => {
  const d = tmp(t);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'k.pem'), '-out', join(d, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const p = agentProgram();
  p.parse(['--listen', '127.0.0.1', '--port', '0', '--config', '/dev/null', '--tls-cert', join(d, 'c.pem'), '--tls-key', join(d, 'k.pem'), '--state-dir', join(d, 's')], { from: 'user' });
  const agent = await startAgent(resolveSettings(p.opts(), {}), () => undefined);
  t.teardown(() => agent.stop());
  t.true(agent.url.startsWith('https://'));
  const { readFileSync } = await import('node:fs');
  const ok = new AgentClient({ name: 'tls', url: agent.url, ca: readFileSync(join(d, 'c.pem')) });
  const h = await ok.call(agentHello, {});
  t.true(h.tls);
  const unverified = new AgentClient({ name: 'tls', url: agent.url });
  await t.throwsAsync(unverified.call(agentHello, {}), { message: /unreachable/ });
});

test('two agents cannot share a state dir (the second exits, the first keeps its ledger)', async (t) => {
  const d = tmp(t);
  const { spawn } = await import('node:child_process');
  const first = spawn(process.execPath, [AGENT, '--listen', '127.0.0.1', '--port', '0', '--config', '/dev/null', '--state-dir', join(d, 's')], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => void first.kill('SIGKILL'));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    first.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('"listening"')) resolve();
    });
    first.once('exit', () => reject(new Error(`first agent exited: ${log}`)));
  });
  const second = await new Promise<{ code: number | null; err: string }>((resolve) => {
    execFile(process.execPath, [AGENT, '--listen', '127.0.0.1', '--port', '0', '--config', '/dev/null', '--state-dir', join(d, 's')], (e, _o, err) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, err }));
  });
  t.is(second.code, 2);
  t.regex(second.err, /another steth-agent \(PID \d+\) uses state dir/);
  t.is(first.exitCode, null);
});
