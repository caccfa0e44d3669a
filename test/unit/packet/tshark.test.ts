/**
 * Every real-tool vector under test/fixtures/vectors is decoded by `steth decode`'s pure
 * function and by tshark (`tshark -r FILE -T json`); the fields both decode must agree:
 * addresses, VLAN ids / PCP / DEI, IP flags, TTL, id and checksum status, UDP ports,
 * length and checksum status, ICMP type/code/id/seq/next-hop MTU and the quoted
 * datagram, VXLAN VNI, DHCP header fields, message type, option codes in order and
 * every option's bytes.
 */
import test from 'ava';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../src/host/exec.js';
import { decodeCapture } from '../../../src/cli/commands/decode-run.js';
import type { Layer } from '../../../src/packet/index.js';
import { VECTORS_DIR } from './vectors.js';

type J = Record<string, unknown>;

let tsharkOk = true;
try {
  await run('tshark', ['--version'], { timeoutMs: 20000 });
} catch {
  tsharkOk = false;
}

const files = readdirSync(VECTORS_DIR).filter((f) => f.endsWith('.pcap'));

const arr = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
const hexNum = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));
const plainHex = (v: unknown): string => String(v ?? '').replace(/:/g, '').toLowerCase();
const status = (ok: boolean | undefined): string => (ok === undefined ? '2' : ok ? '1' : '0');

/** field-by-field comparison rows [what, ours, tshark] for one frame */
function compare(ours: readonly Layer[], ts: J): Array<[string, unknown, unknown]> {
  const rows: Array<[string, unknown, unknown]> = [];
  const eq = (what: string, a: unknown, b: unknown): void => {
    rows.push([what, a, b]);
  };
  const eths = arr(ts.eth as J | J[]);
  const ips = arr(ts.ip as J | J[]);
  const udps = arr(ts.udp as J | J[]);
  const vlans = arr(ts.vlan as J | J[]);
  const ads = arr(ts.ieee8021ad as J | J[]);
  const arps = arr(ts.arp as J | J[]);
  let ei = 0;
  let ii = 0;
  let ui = 0;
  let vi = 0;
  let ai = 0;
  let ri = 0;
  for (const l of ours) {
    switch (l.layer) {
      case 'ethernet': {
        const e = eths[ei++] ?? {};
        eq(`eth${ei}.dst`, l.dst, e['eth.dst']);
        eq(`eth${ei}.src`, l.src, e['eth.src']);
        eq(`eth${ei}.type`, l.etherType, hexNum(e['eth.type']));
        break;
      }
      case 'vlan': {
        if (l.tpid === 0x88a8) {
          const v = ads[ai++] ?? {};
          eq(`8021ad${ai}.id`, String(l.vid), v['ieee8021ad.id']);
          eq(`8021ad${ai}.priority`, String(l.pcp), v['ieee8021ad.priority']);
          eq(`8021ad${ai}.dei`, l.dei ? '1' : '0', v['ieee8021ad.dei']);
        } else {
          const v = vlans[vi++] ?? {};
          eq(`vlan${vi}.id`, String(l.vid), v['vlan.id']);
          eq(`vlan${vi}.priority`, String(l.pcp), v['vlan.priority']);
          eq(`vlan${vi}.dei`, l.dei ? '1' : '0', v['vlan.dei']);
          eq(`vlan${vi}.etype`, l.etherType, hexNum(v['vlan.etype']));
        }
        break;
      }
      case 'arp': {
        const a = arps[ri++] ?? {};
        eq('arp.opcode', String(l.op), a['arp.opcode']);
        eq('arp.src.hw_mac', l.senderMac, a['arp.src.hw_mac']);
        eq('arp.src.proto_ipv4', l.senderIp, a['arp.src.proto_ipv4']);
        eq('arp.dst.hw_mac', l.targetMac, a['arp.dst.hw_mac']);
        eq('arp.dst.proto_ipv4', l.targetIp, a['arp.dst.proto_ipv4']);
        break;
      }
      case 'ipv4': {
        const p = ips[ii++] ?? {};
        ipFields(`ip${ii}`, l, p, eq);
        break;
      }
      case 'udp': {
        const u = udps[ui++] ?? {};
        eq(`udp${ui}.srcport`, String(l.srcPort), u['udp.srcport']);
        eq(`udp${ui}.dstport`, String(l.dstPort), u['udp.dstport']);
        eq(`udp${ui}.length`, String(l.length), u['udp.length']);
        eq(`udp${ui}.checksum.status`, status(l.checksumOk), u['udp.checksum.status'] ?? '2');
        break;
      }
      case 'icmp': {
        const c = (ts.icmp ?? {}) as J;
        icmpFields('icmp', l, c, eq);
        eq('icmp.checksum.status', status(l.checksumOk), c['icmp.checksum.status']);
        if (l.quoted) {
          const qi = l.quoted.find((q) => q.layer === 'ipv4');
          const tq = (c.ip ?? {}) as J;
          if (qi && qi.layer === 'ipv4') {
            eq('icmp.quoted.ip.src', qi.src, tq['ip.src']);
            eq('icmp.quoted.ip.dst', qi.dst, tq['ip.dst']);
            eq('icmp.quoted.ip.id', qi.id, hexNum(tq['ip.id']));
            eq('icmp.quoted.ip.proto', String(qi.protocol), tq['ip.proto']);
            eq('icmp.quoted.ip.df', qi.df ? '1' : '0', ((tq['ip.flags_tree'] ?? {}) as J)['ip.flags.df']);
          }
          const qu = l.quoted.find((q) => q.layer === 'udp');
          if (qu && qu.layer === 'udp') {
            const tu = (c.udp ?? {}) as J;
            eq('icmp.quoted.udp.srcport', String(qu.srcPort), tu['udp.srcport']);
            eq('icmp.quoted.udp.dstport', String(qu.dstPort), tu['udp.dstport']);
          }
          const qc = l.quoted.find((q) => q.layer === 'icmp');
          if (qc && qc.layer === 'icmp') icmpFields('icmp.quoted.icmp', qc, (c.icmp ?? {}) as J, eq);
        }
        break;
      }
      case 'vxlan': {
        const x = (ts.vxlan ?? {}) as J;
        eq('vxlan.vni', String(l.vni), x['vxlan.vni']);
        eq('vxlan.flag_i', (l.flags & 8) !== 0 ? '1' : '0', ((x['vxlan.flags_tree'] ?? {}) as J)['vxlan.flag_i']);
        break;
      }
      case 'dhcp': {
        const d = (ts.dhcp ?? {}) as J;
        eq('dhcp.type', String(l.op), d['dhcp.type']);
        eq('dhcp.id', l.xid, hexNum(d['dhcp.id']));
        eq('dhcp.secs', String(l.secs), d['dhcp.secs']);
        eq('dhcp.flags', l.flags, hexNum(d['dhcp.flags']));
        eq('dhcp.ip.client', l.ciaddr, d['dhcp.ip.client']);
        eq('dhcp.ip.your', l.yiaddr, d['dhcp.ip.your']);
        eq('dhcp.ip.server', l.siaddr, d['dhcp.ip.server']);
        eq('dhcp.ip.relay', l.giaddr, d['dhcp.ip.relay']);
        eq('dhcp.hw.mac_addr', l.chaddr, d['dhcp.hw.mac_addr']);
        eq('dhcp.server', l.sname, d['dhcp.server'] ?? '');
        eq('dhcp.file', l.file, d['dhcp.file'] ?? '');
        const codes = l.options.filter((o) => o.code !== 0 && o.code !== 255).map((o) => String(o.code));
        const tcodes = arr(d['dhcp.option.type'] as string | string[]).filter((c) => c !== '0' && c !== '255');
        eq('dhcp.option.type (order)', codes.join(','), tcodes.join(','));
        const trees = arr(d['dhcp.option.type_tree'] as J | J[]).filter((t) => t['dhcp.option.value'] !== undefined);
        const ourValues = l.options.filter((o) => o.code !== 0 && o.code !== 255);
        ourValues.forEach((o, i) => eq(`dhcp.option[${o.code}].value`, o.data, plainHex(trees[i]?.['dhcp.option.value'])));
        const t53 = trees.find((t) => t['dhcp.option.dhcp'] !== undefined);
        const o53 = l.options.find((o) => o.code === 53);
        eq('dhcp.option.dhcp (message type)', o53 ? String(parseInt(o53.data ?? '', 16)) : undefined, str(t53?.['dhcp.option.dhcp']));
        break;
      }
      default:
        break;
    }
  }
  return rows;
}

function ipFields(p: string, l: Extract<Layer, { layer: 'ipv4' }>, t: J, eq: (w: string, a: unknown, b: unknown) => void): void {
  const flags = (t['ip.flags_tree'] ?? {}) as J;
  eq(`${p}.src`, l.src, t['ip.src']);
  eq(`${p}.dst`, l.dst, t['ip.dst']);
  eq(`${p}.ttl`, String(l.ttl), t['ip.ttl']);
  eq(`${p}.id`, l.id, hexNum(t['ip.id']));
  eq(`${p}.proto`, String(l.protocol), t['ip.proto']);
  eq(`${p}.len`, String(l.length), t['ip.len']);
  eq(`${p}.flags.df`, l.df ? '1' : '0', flags['ip.flags.df']);
  eq(`${p}.flags.mf`, l.mf ? '1' : '0', flags['ip.flags.mf']);
  eq(`${p}.frag_offset`, String(l.fragOffset * 8), t['ip.frag_offset']);
  eq(`${p}.checksum.status`, status(l.checksumOk), t['ip.checksum.status']);
}

function icmpFields(p: string, l: Extract<Layer, { layer: 'icmp' }>, t: J, eq: (w: string, a: unknown, b: unknown) => void): void {
  eq(`${p}.type`, String(l.type), t['icmp.type']);
  eq(`${p}.code`, String(l.code), t['icmp.code']);
  if (l.id !== undefined) eq(`${p}.ident`, String(l.id), t['icmp.ident']);
  if (l.seq !== undefined) eq(`${p}.seq`, String(l.seq), t['icmp.seq']);
  if (l.nextHopMtu !== undefined) eq(`${p}.mtu`, String(l.nextHopMtu), t['icmp.mtu']);
}

for (const f of files) {
  const t = tsharkOk ? test.serial : test.skip;
  t(`steth decode agrees with tshark on ${f}`, async (t) => {
    const path = join(VECTORS_DIR, f);
    t.true(existsSync(path.replace(/\.pcap$/, '.txt')), 'every vector has its provenance file');
    const { stdout } = await run('tshark', ['-r', path, '-T', 'json', '--no-duplicate-keys', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'], { timeoutMs: 60000 });
    const theirs = (JSON.parse(stdout) as Array<{ _source: { layers: J } }>).map((p) => p._source.layers);
    const { records } = decodeCapture(readFileSync(path));
    t.is(records.length, theirs.length, 'frame count');
    t.true(records.length > 0);
    let compared = 0;
    const mismatches: string[] = [];
    records.forEach((r, i) => {
      for (const [what, a, b] of compare(r.layers, theirs[i]!)) {
        compared++;
        if (String(a) !== String(b)) mismatches.push(`frame ${i + 1} ${what}: steth=${String(a)} tshark=${String(b)}`);
      }
    });
    t.log(`${compared} fields compared over ${records.length} frames`);
    t.deepEqual(mismatches, []);
    t.true(compared >= records.length * 3, `compared ${compared} fields`);
  });
}
