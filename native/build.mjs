#!/usr/bin/env node
// Builds the libpcap addon explicitly (npm may skip install scripts): checks the
// prerequisites first so a missing libpcap-dev or compiler gives one clear message,
// then runs node-gyp against the local Node headers (no header download is possible
// on machines without internet access).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function fail(lines) {
  process.stderr.write(`steth: cannot build the libpcap addon\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  process.exit(1);
}

if (!existsSync(join(root, 'binding.gyp'))) {
  process.stdout.write('steth: no binding.gyp yet, skipping native build\n');
  process.exit(0);
}

const missing = [];
const hasHeader = ['/usr/include/pcap/pcap.h', '/usr/include/pcap.h', '/usr/local/include/pcap/pcap.h'].some((p) => existsSync(p));
if (!hasHeader) missing.push('libpcap headers (pcap/pcap.h)');
const cxx = process.env.CXX ?? 'c++';
if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(`a C++ compiler (${cxx})`);
if (spawnSync('make', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('make');
if (missing.length > 0) {
  fail([
    `missing: ${missing.join(', ')}`,
    'Debian/Ubuntu: apt-get install libpcap-dev g++ make python3',
    'RHEL/CentOS/Fedora: dnf install libpcap-devel gcc-c++ make python3',
  ]);
}

// Node's own headers: prefer the ones installed beside this node binary.
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir
  ?? (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(npmDir)) gyp = npmDir;
}
if (!gyp) fail(['node-gyp not found: run npm ci (it is a devDependency) or npm install -g node-gyp']);

const args = [gyp, 'rebuild', '--release', '-j', 'max'];
if (nodedir) args.push(`--nodedir=${nodedir}`);
// Debian's python3 first: a pyenv python3 earlier on PATH may lack gyp's needs.
if (existsSync('/usr/bin/python3')) args.push('--python=/usr/bin/python3');
try {
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
} catch {
  fail(['node-gyp failed (see above)', 'Debian/Ubuntu: apt-get install libpcap-dev g++ make python3', 'RHEL/CentOS/Fedora: dnf install libpcap-devel gcc-c++ make python3']);
}
