/**
 * Codec benchmark (npm run bench -- codec [--quick]).
 *  - dhcp_discover_build: build the layer list (Ethernet/IPv4/UDP/BOOTP, options 53, 61,
 *    12, 55, 57) and encode it to bytes with lengths and checksums fixed;
 *  - dhcp_discover_decode: decode those bytes fully (every layer, every option, checksums
 *    verified); dhcp_discover_decode_typed adds typed values for every option;
 *  - mixed_decode: decode every frame of the real vectors (DHCP, ARP, ICMP, 802.1Q,
 *    QinQ, VXLAN) in a loop: frames/s and MB/s.
 * Anchor: Debian's python3-scapy doing the same build / parse, spawned once per round
 * with its own timing loop (interpreter start and scapy import excluded), interleaved
 * with our rounds (A B A B).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../src/capture/pcapfile.js';
import { decodeFrame, describeDhcpOptions, dhcpDiscover, encodeFrame, findLayer } from '../../src/packet/index.js';
import { opsPerSecond, result, type BenchOptions, type BenchReport } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = resolve(here, '../../../test/fixtures/vectors');
const MAC = '02:00:0a:4d:00:63';
const PRL = [1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121];

const SCAPY = `
import sys, time, warnings
warnings.filterwarnings("ignore")
from scapy.all import Ether, IP, UDP, BOOTP, DHCP, conf
import scapy
ms = float(sys.argv[1]) / 1000.0
mac = bytes.fromhex("02000a4d0063")
prl = [1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121]
def build(i):
    p = (Ether(src="02:00:0a:4d:00:63", dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255", ttl=64)
         / UDP(sport=68, dport=67) / BOOTP(op=1, xid=i, flags=0x8000, chaddr=mac)
         / DHCP(options=[("message-type", "discover"), ("client_id", b"\\x01" + mac), ("hostname", b"vm1"),
                         ("param_req_list", prl), ("max_dhcp_size", 1500), "end"]))
    return bytes(p)
def rate(fn):
    n = 0; t0 = time.perf_counter(); t = t0; c0 = time.process_time()
    while t - t0 < ms:
        for _ in range(16): fn()
        n += 16; t = time.perf_counter()
    return "%f %f" % (n / (t - t0), n / max(time.process_time() - c0, 1e-9))
wire = build(1)
i = [0]
def b():
    i[0] += 1; build(i[0] & 0xffffffff)
def p():
    pkt = Ether(wire); pkt[DHCP].options
build(2); Ether(wire)
print(rate(b), rate(p), scapy.__version__)
`;

interface Rate {
  wall: number;
  cpu: number;
}

function scapyRound(ms: number): { build: Rate; parse: Rate; version: string } | undefined {
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', SCAPY, String(ms)], { encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [bw, bc, pw, pc, v] = out.trim().split(/\s+/);
    return { build: { wall: Number(bw), cpu: Number(bc) }, parse: { wall: Number(pw), cpu: Number(pc) }, version: v ?? '?' };
  } catch {
    return undefined;
  }
}

export default async function bench(opts: BenchOptions): Promise<BenchReport> {
  const rounds = opts.quick ? 2 : 5;
  const ms = opts.quick ? 300 : 1000;
  let xid = 1;
  const build = (): Buffer => encodeFrame(dhcpDiscover({ mac: MAC, xid: xid++ >>> 0, hostname: 'vm1', paramRequestList: PRL, maxMessageSize: 1500 }));
  const wire = build();
  const check = decodeFrame(wire);
  const d = findLayer(check.layers, 'dhcp');
  if (check.error || !d || d.options.map((o) => o.code).join(',') !== '53,61,12,55,57,255') throw new Error('benchmark frame is not the DISCOVER it should be');
  const decode = (): unknown => decodeFrame(wire);
  const decodeTyped = (): unknown => {
    const f = decodeFrame(wire);
    return describeDhcpOptions(findLayer(f.layers, 'dhcp')!);
  };

  const frames = readdirSync(VECTORS)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .flatMap((f) => readPcap(readFileSync(join(VECTORS, f))).frames.map((x) => x.bytes));
  const totalBytes = frames.reduce((n, f) => n + f.length, 0);
  const mixed = (): void => {
    for (const f of frames) decodeFrame(f);
  };

  // warm-up by count, not time: on a loaded machine the optimising compiler's thread gets little
  // CPU, and a time-boxed warm-up would measure interpreted code in the first rounds. Excluded.
  for (let i = 0; i < 200000; i++) build();
  for (let i = 0; i < 300000; i++) decode();
  for (let i = 0; i < 20000; i++) decodeTyped();
  for (let i = 0; i < 5000; i++) mixed();

  const s = {
    build: [] as number[], decode: [] as number[], typed: [] as number[], mixed: [] as number[], pyBuild: [] as number[], pyParse: [] as number[],
    buildCpu: [] as number[], decodeCpu: [] as number[], pyBuildCpu: [] as number[], pyParseCpu: [] as number[],
  };
  let version = '?';
  /** ops per wall second and per CPU second of this process (all its threads) */
  const measure = (fn: () => unknown): Rate => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const wall = opsPerSecond(fn, ms);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpuSecs = (c.user + c.system) / 1e6;
    return { wall, cpu: (wall * secs) / Math.max(cpuSecs, 1e-9) };
  };
  for (let r = 0; r < rounds; r++) {
    const b = measure(build);
    s.build.push(b.wall);
    s.buildCpu.push(b.cpu);
    const d = measure(decode);
    s.decode.push(d.wall);
    s.decodeCpu.push(d.cpu);
    const py = scapyRound(ms);
    if (py) {
      s.pyBuild.push(py.build.wall);
      s.pyParse.push(py.parse.wall);
      s.pyBuildCpu.push(py.build.cpu);
      s.pyParseCpu.push(py.parse.cpu);
      version = py.version;
    }
    s.typed.push(opsPerSecond(decodeTyped, ms));
    s.mixed.push(opsPerSecond(mixed, ms) * frames.length);
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;
  const anchorName = `scapy ${version} (python3-scapy)`;
  const goal = '>=500x anchor';
  const results = [
    result('dhcp_discover_build', 'ops/s', s.build, s.pyBuild.length ? { anchor: { name: anchorName, value: Math.round(med(s.pyBuild)) }, goal } : {}),
    result('dhcp_discover_decode', 'ops/s', s.decode, s.pyParse.length ? { anchor: { name: anchorName, value: Math.round(med(s.pyParse)) }, goal } : {}),
    result('dhcp_discover_build_cpu', 'ops/cpu-s', s.buildCpu, s.pyBuildCpu.length ? { anchor: { name: `${anchorName}, per CPU second`, value: Math.round(med(s.pyBuildCpu)) }, goal, note: 'ops per CPU-second: less sensitive to the other processes on this shared machine' } : {}),
    result('dhcp_discover_decode_cpu', 'ops/cpu-s', s.decodeCpu, s.pyParseCpu.length ? { anchor: { name: `${anchorName}, per CPU second`, value: Math.round(med(s.pyParseCpu)) }, goal } : {}),
    result('dhcp_discover_decode_typed', 'ops/s', s.typed, s.pyParse.length ? { anchor: { name: anchorName, value: Math.round(med(s.pyParse)) }, note: 'decode + typed value of every option' } : {}),
    result('mixed_decode', 'frames/s', s.mixed, { note: `${frames.length} real frames (${totalBytes} bytes) from test/fixtures/vectors` }),
    result('mixed_decode_bytes', 'MB/s', s.mixed.map((fps) => (fps * (totalBytes / frames.length)) / 1e6)),
  ];
  return {
    results,
    notes: [
      `${rounds} rounds of ${ms} ms each, interleaved ours / scapy; medians; JIT warm-up (200k builds, 300k decodes) excluded; python start-up and scapy import excluded (timed inside python)`,
      'build = layer list + encode with lengths and checksums fixed; decode = every layer, every option kept losslessly, IPv4/UDP checksums verified',
      s.pyBuild.length ? `scapy rounds (wall): build ${s.pyBuild.map(Math.round).join(', ')}; parse ${s.pyParse.map(Math.round).join(', ')}` : 'scapy not available: no anchor',
      `*_cpu metrics divide by CPU time (node: process.cpuUsage incl. GC threads; scapy: time.process_time), since wall-clock rates on this shared 2-core machine swing with the other sessions' load (load average ${os.loadavg()[0]!.toFixed(1)} at the end)`,
    ],
  };
}
