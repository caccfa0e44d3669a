/**
 * Pure parsers for what the agent reads on a node: OpenFlow flow dumps (which
 * segmentation a local VLAN is translated to), dnsmasq command lines and hostsfiles.
 */
import type { NetworkType } from './model.js';

/** A number as ovs-ofctl prints it: decimal or 0x-hex. */
function num(s: string): number {
  return s.startsWith('0x') ? parseInt(s.slice(2), 16) : Number(s);
}

function priority(line: string): number {
  const m = /\bpriority=(\d+)/.exec(line);
  return m ? Number(m[1]) : 32768;
}

/**
 * Which segmentation `localVlan` leaves this node with, from `ovs-ofctl dump-flows` of the
 * bridges other than the integration bridge. VLAN: a flow matching dl_vlan=LVID that
 * rewrites the VID (mod_vlan_vid:N or set_field:N->vlan_vid); VXLAN/GRE: one that sets the
 * tunnel id (set_field:N->tun_id, set_tunnel:N, load:N->NXM_NX_TUN_ID[]). The flow with the
 * highest priority wins, as in the switch.
 */
export function segmentationFromFlows(dumps: ReadonlyArray<{ bridge: string; lines: readonly string[] }>, localVlan: number): { type: NetworkType; id: number; bridge: string } | undefined {
  let best: { type: NetworkType; id: number; bridge: string; prio: number } | undefined;
  const vlanRe = new RegExp(`\\bdl_vlan=${localVlan}(?![0-9])`);
  for (const d of dumps) {
    for (const line of d.lines) {
      if (!vlanRe.test(line)) continue;
      const actions = line.slice(line.indexOf('actions=') + 8);
      if (line.indexOf('actions=') < 0) continue;
      const prio = priority(line);
      let hit: { type: NetworkType; id: number } | undefined;
      let m = /mod_vlan_vid:(\d+)/.exec(actions) ?? /set_field:(0x[0-9a-f]+|\d+)->vlan_vid/.exec(actions);
      if (m) {
        let id = num(m[1]!);
        if (id >= 4096) id -= 4096; // set_field on vlan_vid carries OFPVID_PRESENT
        hit = { type: 'vlan', id };
      } else if ((m = /set_field:(0x[0-9a-f]+|\d+)->tun_id/.exec(actions) ?? /set_tunnel(?:64)?:(0x[0-9a-f]+|\d+)/.exec(actions) ?? /load:(0x[0-9a-f]+|\d+)->NXM_NX_TUN_ID/.exec(actions))) {
        hit = { type: 'vxlan', id: num(m[1]!) };
      }
      if (hit && (!best || prio > best.prio)) best = { ...hit, bridge: d.bridge, prio };
    }
  }
  return best ? { type: best.type, id: best.id, bridge: best.bridge } : undefined;
}

export interface DnsmasqArgs {
  hostsFile?: string;
  leaseFile?: string;
  interfaces: string[];
  pidFile?: string;
}

/** The options steth needs from a dnsmasq argv (both --opt=value and --opt value). */
export function parseDnsmasqArgs(argv: readonly string[]): DnsmasqArgs {
  const out: DnsmasqArgs = { interfaces: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const val = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
    const take = (): string | undefined => {
      if (eq < 0) i++;
      return val;
    };
    switch (key) {
      case '--dhcp-hostsfile':
      case '--dhcp-hostsdir': {
        const v = take();
        if (v) out.hostsFile = v;
        break;
      }
      case '--dhcp-leasefile':
      case '-l': {
        const v = take();
        if (v) out.leaseFile = v;
        break;
      }
      case '--interface':
      case '-i': {
        const v = take();
        if (v) out.interfaces.push(v);
        break;
      }
      case '--pid-file':
      case '-x': {
        const v = take();
        if (v) out.pidFile = v;
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/**
 * The hostsfile line for `mac` (dnsmasq --dhcp-hostsfile format, as Neutron writes it:
 * `fa:16:3e:..,host-10-0-0-5.openstacklocal,10.0.0.5` or with `set:TAG` fields).
 */
export function hostsFileEntry(text: string, mac: string): { mac: string; ip?: string; hostname?: string } | undefined {
  const want = mac.toLowerCase();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (!fields.some((f) => f.toLowerCase() === want)) continue;
    const e: { mac: string; ip?: string; hostname?: string } = { mac: want };
    for (const f of fields) {
      if (f.toLowerCase() === want || f.startsWith('set:') || f.startsWith('tag:') || f.startsWith('id:')) continue;
      if (/^\d{1,3}(\.\d{1,3}){3}$/.test(f)) e.ip ??= f;
      else if (/^\[.*\]$/.test(f)) continue;
      else if (/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(f) && !/^\d+[smhd]?$/.test(f) && f !== 'infinite' && f !== 'ignore') e.hostname ??= f;
    }
    return e;
  }
  return undefined;
}

/** Lease lines (`expiry mac ip hostname clientid`) for a MAC in a dnsmasq lease file. */
export function leasesFor(text: string, mac: string): string[] {
  const want = mac.toLowerCase();
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l.split(/\s+/)[1]?.toLowerCase() === want);
}
