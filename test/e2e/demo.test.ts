/**
 * The README's main job, end to end: `steth demo` (lab up → doctor → fault drill →
 * heal → lab down) run as an operator runs it, through the real `steth` binary; and
 * `steth doctor --lab` failing on a broken lab, naming what broke.
 */
import anyTest from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labFault, labHeal } from '../../src/lab/index.js';
import { run } from '../../src/host/exec.js';
import { needsRoot } from '../helpers/env.js';
import { newLabPrefix, useLab } from '../lab/fixture.js';

const test = needsRoot(anyTest);
const STETH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'steth.js');

interface Check {
  check: string;
  target: string;
  result: string;
  verdict: string;
}
interface Result {
  ok: boolean;
  verdict: string;
  data: { checks?: Check[]; broken?: string; healed?: string; fault?: { summary: string } };
  tables: Array<{ title?: string; rows: Array<Record<string, unknown>> }>;
}

function steth(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [STETH, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Everything on the machine that carries the prefix: namespaces, root-namespace links, processes, state dir. */
async function traces(prefix: string): Promise<string[]> {
  const out: string[] = [];
  const ns = await run('ip', ['netns', 'list']);
  for (const l of ns.stdout.split('\n')) if (l.startsWith(`${prefix}-`)) out.push(`netns ${l.split(' ')[0]}`);
  const links = await run('ip', ['-o', 'link', 'show']);
  for (const l of links.stdout.split('\n')) if (l.includes(` ${prefix}`)) out.push(`link ${l.split(':')[1]?.trim()}`);
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.includes(`/steth-lab/${prefix}/`)) out.push(`process ${pid} ${cmd.slice(0, 80)}`);
  }
  if (existsSync(`/run/steth-lab/${prefix}`)) out.push(`dir /run/steth-lab/${prefix}`);
  return out;
}

test.serial('steth demo: the whole lab passes doctor, the fault drill names the broken VLAN translation, and nothing is left', async (t) => {
  const prefix = newLabPrefix();
  t.teardown(async () => {
    if ((await traces(prefix)).length > 0) await run(process.execPath, [STETH, 'lab', 'down', '--prefix', prefix], { allowFail: true });
  });
  const r = await steth(['-f', 'json', 'demo', '--prefix', prefix], 300_000);
  t.is(r.code, 0, r.stderr.slice(-2000));
  const { results } = JSON.parse(r.stdout) as { results: Result[] };
  t.is(results.length, 2);
  const [doctor, drill] = results as [Result, Result];

  // doctor: every kind of check ran against the lab and passed
  t.true(doctor.ok, doctor.verdict);
  const checks = doctor.data.checks!;
  t.deepEqual([...new Set(checks.map((c) => c.check))].sort(), ['agents', 'dhcp', 'interfaces', 'iperf', 'mtu', 'ping', 'vlan']);
  t.deepEqual(checks.filter((c) => c.result !== 'pass').map((c) => `${c.check} ${c.target}: ${c.verdict}`), []);
  t.is(checks.filter((c) => c.check === 'dhcp').length, 5, 'one DHCP check per lab port');
  t.is(doctor.verdict, `all ${checks.length} checks passed`);

  // the drill: the broken check exits 1 naming the wrong tag, the healed one passes
  t.true(drill.ok, drill.verdict);
  const steps = drill.tables[0]!.rows;
  t.is(steps[1]!.exit, 1);
  t.regex(String(steps[1]!.verdict), /tagged 101, network segmentation id is 100: check VLAN translation flows on br-eth1/);
  t.is(steps[2]!.exit, 0);
  t.regex(String(steps[2]!.verdict), /DHCP works for port/);

  // lab down: nothing of the demo's lab remains
  t.deepEqual(await traces(prefix), []);
});

const lab = useLab(test);

test.serial('steth doctor --lab fails with exit 1 on a lab whose compute-2 tenant NIC is down, naming that node and NIC', async (t) => {
  await labFault(lab.prefix, 'nic-down', { node: 'compute-2', nic: 'net' });
  t.teardown(() => labHeal(lab.prefix));
  const nic = lab.node('compute-2').nics.net;
  const r = await steth(['-f', 'json', 'doctor', '--lab', lab.prefix, '--only', 'interfaces,ping'], 120_000);
  t.is(r.code, 1, r.stderr.slice(-2000));
  const res = JSON.parse(r.stdout) as Result;
  t.false(res.ok);
  const failed = res.data.checks!.filter((c) => c.result !== 'pass');
  // the NIC's own report fails, and so does compute-2's ping on the tenant network
  t.true(failed.some((c) => c.check === 'interfaces' && c.target === `compute-2 net ${nic}`), JSON.stringify(failed));
  t.true(failed.some((c) => c.check === 'ping' && c.target.startsWith('compute-2 → net')), JSON.stringify(failed));
  // nothing on the other types or the other nodes' own NICs
  t.false(failed.some((c) => c.check === 'interfaces' && !c.target.startsWith('compute-2 net')), JSON.stringify(failed));
  t.false(failed.some((c) => c.check === 'ping' && !c.target.includes('net')), JSON.stringify(failed));
  t.regex(res.verdict, /failed/);
  // what doctor ran: get-interface stays a report (exit 0) unless asked to require the link up
  const report = await steth(['--config', lab.state.configPath, 'get-interface', 'compute-2', nic], 30_000);
  t.is(report.code, 0, report.stderr);
  const check = await steth(['--config', lab.state.configPath, 'get-interface', 'compute-2', nic, '--require-up'], 30_000);
  t.is(check.code, 1, check.stderr);
  t.regex(check.stdout + check.stderr, new RegExp(`${nic} on compute-2 is administratively down`));
});
