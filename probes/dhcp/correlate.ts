/**
 * Pure correlation: what each capture point saw → one row per hop and a diagnosis
 * naming the first hop where the exchange broke, with the likely causes there.
 *
 * The DISCOVER travels VM side → DHCP server (tap, qbr, qvb, qvo, compute uplink, DHCP
 * node uplink, qdhcp port); the OFFER comes back the other way. A hop where the frame
 * was expected but not seen, after the last hop where it was seen, is where it broke.
 * Hops that could not be observed are skipped (a later sighting proves they passed).
 * Facts the agents reported (port tag 4095, vswitchd stopped, NIC down, tap not on its
 * bridge, dnsmasq stopped, MAC not in the hostsfile, translation to the wrong VLAN) are
 * offered as causes when they sit on the broken segment.
 */
import type { CapturePoint, DhcpVerdict, ExchangeResult, FrameObs, HopPlan, HopRole, HopRow, OfferSummary, PointObs, ResolvedPort } from './model.js';
import { hopOrder } from './model.js';

export const DHCP_TYPE_NAMES: Record<number, string> = {
  1: 'DHCPDISCOVER',
  2: 'DHCPOFFER',
  3: 'DHCPREQUEST',
  4: 'DHCPDECLINE',
  5: 'DHCPACK',
  6: 'DHCPNAK',
  7: 'DHCPRELEASE',
  8: 'DHCPINFORM',
};

export function dhcpTypeName(t: number): string {
  return DHCP_TYPE_NAMES[t] ?? `unknown(${t})`;
}

/** A fact that explains a break when it lies on the broken segment. */
export interface Finding {
  role: HopRole;
  node: string;
  /** full sentence for the causes list */
  text: string;
  /** short form for the one-line summary */
  short: string;
}

type Seen = 'seen' | 'missing' | 'unknown';

interface HopState {
  point: CapturePoint;
  obs: PointObs | undefined;
  discover: FrameObs[];
  offer: FrameObs[];
}

function nsDiffMs(a: string, b: string): number {
  return Number(BigInt(a) - BigInt(b)) / 1e6;
}

function tagText(frames: FrameObs[]): string {
  if (frames.length === 0) return '';
  const seen = new Set<string>();
  for (const f of frames) {
    if (f.encap) seen.add(`vxlan vni ${f.encap.vni} → ${f.encap.outerDst}${f.vlanTags.length ? ` (outer vlan ${f.vlanTags.join('.')})` : ''}`);
    else seen.add(f.vlanTags.length ? f.vlanTags.join('.') : 'untagged');
  }
  return [...seen].join(', ');
}

function observedState(h: HopState, kind: 'discover' | 'offer'): Seen {
  if (h.point.unobservable || !h.obs || h.obs.status !== 'ok') return 'unknown';
  return (kind === 'discover' ? h.discover : h.offer).length > 0 ? 'seen' : 'missing';
}

function where(p: CapturePoint): string {
  return `${p.node} ${p.iface}${p.netns ? ` (${p.netns})` : ''}`;
}

/** Facts from resolution that can explain a break, each tied to the hop it concerns. */
export function findings(port: ResolvedPort): Finding[] {
  const out: Finding[] = [];
  const add = (role: HopRole, node: string, short: string, text: string = short): void => {
    out.push({ role, node, short, text });
  };
  const isDown = (d: { adminUp?: boolean; state?: string }): boolean => d.adminUp === false || (d.state !== undefined && /^(DOWN|LOWERLAYERDOWN)$/i.test(d.state));
  const f = port.hostFacts;
  const host = port.host;
  if (port.ovs?.tag === 4095) {
    add('qvo', host, 'port tag 4095: port not bound/wired', `port tag 4095 on ${port.ovs.name}: port not bound/wired (the OVS agent parks unbound or failed ports on the dead VLAN 4095)`);
  }
  if (!port.ovs) {
    const qvo = f.devices.qvo;
    if (qvo?.exists) add('qvo', host, 'qvo missing from br-int', `${qvo.name} exists on ${host} but no OVS interface carries iface-id ${port.portId}: qvo missing from br-int`);
    else add('qvo', host, 'port not plugged into br-int', `no OVS interface on ${host} carries iface-id ${port.portId}: the port is not plugged into br-int`);
  } else if (port.ovs.error) add('qvo', host, `OVS could not attach ${port.ovs.name}`, `OVS could not attach ${port.ovs.name}: ${port.ovs.error}`);
  if (f.vswitchdRunning === false) add('qvo', host, `ovs-vswitchd not running on ${host}`, `ovs-vswitchd is not running on ${host}: nothing forwards between br-int and the NIC`);
  if (f.uplink && isDown(f.uplink)) add('compute-uplink', host, `${f.uplink.name} on ${host} is down`, `${f.uplink.name} on ${host} is ${f.uplink.adminUp === false ? 'administratively down' : `in state ${f.uplink.state}`}: tenant NIC down`);
  const tap = f.devices.tap;
  const qbr = f.devices.qbr;
  if (port.hybrid && tap?.exists && qbr?.exists && tap.master !== qbr.name) {
    add('tap', host, `tap detached from ${qbr.name}`, `${tap.name} is ${tap.master ? `attached to ${tap.master}` : 'not attached to any bridge'}, not to ${qbr.name}: tap detached from qbr`);
  }
  if (tap && !tap.exists) add('tap', host, `${tap.name} does not exist`, `${tap.name} does not exist on ${host}: the VM's tap is gone`);
  const segHost = f.segmentation;
  const segNet = port.network.segmentationId;
  if (segHost && segNet !== undefined && segHost.type === port.network.type && segHost.id !== segNet) {
    const what = segHost.type === 'vlan' ? 'VLAN' : 'VNI';
    add('compute-uplink', host, `${host} translates to ${what} ${segHost.id}, not ${segNet}`, `${host} translates local VLAN ${port.ovs?.tag ?? '?'} to ${what} ${segHost.id}${segHost.bridge ? ` on ${segHost.bridge}` : ''}, the network's segmentation id is ${segNet}: check the translation flows`);
  }
  const remotes = f.underlay?.remotes ?? [];
  if (port.network.type === 'vxlan') {
    for (const s of port.servers) {
      const ip = s.underlay?.localIp;
      if (s.node !== host && ip && remotes.length > 0 && !remotes.includes(ip)) {
        add('compute-uplink', host, `no VXLAN tunnel to ${ip}`, `no VXLAN tunnel on ${host} points at ${s.node}'s underlay ${ip} (remote_ip: ${remotes.join(', ')}): check the vxlan ports on br-tun`);
      }
    }
  }
  for (const s of port.servers) {
    if (s.vswitchdRunning === false) add('dhcp-uplink', s.node, `ovs-vswitchd not running on ${s.node}`);
    if (s.uplink && s.node !== host && isDown(s.uplink)) add('dhcp-uplink', s.node, `${s.uplink.name} on ${s.node} is down`, `${s.uplink.name} on ${s.node} is down: tenant NIC down`);
    if (s.localVlan === 4095) add('qdhcp', s.node, 'DHCP port tag 4095', `the DHCP port ${s.iface ?? ''} in ${s.netns} has tag 4095 (dead VLAN)`);
    if (!s.dnsmasq.running) add('qdhcp', s.node, `dnsmasq not running in ${s.netns}`, `dnsmasq is not running in ${s.netns} on ${s.node}`);
    else if (s.hostsFileRead && !s.hostEntry) {
      add('qdhcp', s.node, `MAC ${port.mac} not in its hostsfile`, `MAC ${port.mac} is not in dnsmasq's hostsfile${s.dnsmasq.hostsFile ? ` ${s.dnsmasq.hostsFile}` : ''} on ${s.node}`);
    }
    if (s.segmentation && segNet !== undefined && s.segmentation.type === port.network.type && s.segmentation.id !== segNet) {
      add('dhcp-uplink', s.node, `${s.node} maps to segmentation id ${s.segmentation.id}`, `${s.node} maps the DHCP port's local VLAN to segmentation id ${s.segmentation.id}, expected ${segNet}`);
    }
  }
  return out;
}

function between(fs: Finding[], lo: number, hi: number): Finding[] {
  return fs.filter((x) => hopOrder(x.role) >= lo && hopOrder(x.role) <= hi);
}

/** Generic causes for a DISCOVER that was seen at `a` and not at `b`. */
function discoverCauses(a: CapturePoint | undefined, b: CapturePoint, port: ResolvedPort): string[] {
  const seg = port.network.segmentationId;
  const lvid = port.ovs?.tag;
  switch (b.role) {
    case 'qvo':
      return [`the veth pair ${a?.iface ?? 'qvb'}/${b.iface} does not carry frames (peer down?)`];
    case 'compute-uplink':
      return [
        `br-int on ${b.node} drops it: check the port tag${lvid !== undefined && lvid !== null ? ` (${lvid})` : ''} and \`ovs-ofctl dump-flows br-int\``,
        port.network.type === 'vxlan'
          ? `no flood flow for local VLAN ${lvid ?? '?'} to the VXLAN tunnels on br-tun`
          : `no VLAN translation flow for local VLAN ${lvid ?? '?'} on the physical bridge`,
      ];
    case 'dhcp-uplink':
      return port.network.type === 'vxlan'
        ? [`the underlay between ${a?.node ?? '?'} and ${b.node} drops VXLAN (UDP 4789), or the tunnel points elsewhere`]
        : [`VLAN ${seg ?? '?'} is not trunked on the physical network between ${a?.node ?? '?'} and ${b.node} (switch port configuration)`];
    case 'qdhcp':
      return [
        `${b.node} does not translate ${port.network.type === 'vxlan' ? `VNI ${seg ?? '?'}` : `VLAN ${seg ?? '?'}`} to the DHCP port's local VLAN: check br-int/${port.network.type === 'vxlan' ? 'br-tun' : 'physical bridge'} flows and the tag of ${b.iface}`,
      ];
    default:
      return [`the frame is lost between ${a ? where(a) : 'the injection point'} and ${where(b)}`];
  }
}

/** Generic causes for an OFFER that was seen at `a` (nearer the server) and not at `b`. */
function offerCauses(a: CapturePoint | undefined, b: CapturePoint, port: ResolvedPort): string[] {
  switch (b.role) {
    case 'tap':
      return port.hybrid ? [`${b.iface} is not attached to ${port.hostFacts.devices.qbr?.name ?? 'its qbr bridge'} (tap detached from qbr)`] : [`br-int on ${b.node} does not deliver to ${b.iface}: port tag / flows`];
    case 'qbr':
      return [`${port.hostFacts.devices.qvb?.name ?? 'qvb'} is not a port of ${b.iface}`];
    case 'qvb':
      return [`the veth pair qvo/qvb does not carry frames back`];
    case 'qvo':
      return [`br-int on ${b.node} does not map the segmentation id back to local VLAN ${port.ovs?.tag ?? '?'} (int-br-eth1 / br-tun flows)`];
    case 'compute-uplink':
      return port.network.type === 'vxlan' ? [`the underlay between ${a?.node ?? '?'} and ${b.node} loses the OFFER`] : [`the return path between ${a?.node ?? '?'} and ${b.node} does not trunk VLAN ${port.network.segmentationId ?? '?'}`];
    case 'dhcp-uplink':
      return [`${b.node} does not send the OFFER out of ${b.iface}: br-int / physical bridge flows on ${b.node}`];
    default:
      return [`the OFFER is lost between ${a ? where(a) : '?'} and ${where(b)}`];
  }
}

export interface CorrelateInput {
  port: ResolvedPort;
  plan: HopPlan;
  obs: PointObs[];
  exchange: ExchangeResult | null;
  /** --full: REQUEST → ACK → RELEASE was asked for */
  full?: boolean;
}

export function correlate(input: CorrelateInput): DhcpVerdict {
  const { port, plan, exchange } = input;
  const byKey = new Map(input.obs.map((o) => [o.point.key, o]));
  const hops: HopState[] = plan.points.map((point) => {
    const obs = byKey.get(point.key);
    const frames = obs?.frames ?? [];
    return { point, obs, discover: frames.filter((f) => f.msgType === 1), offer: frames.filter((f) => f.msgType === 2) };
  });
  const facts = findings(port);
  const fixedIp = port.fixedIps[0];

  // reference time: the DISCOVER as seen leaving the injection device, else the agent's clock
  const injectHop = hops.find((h) => h.point.iface === plan.injection?.iface && h.point.node === plan.injection?.node && h.discover.length > 0);
  const t0 = injectHop?.discover[0]?.tsNs ?? exchange?.sentTsNs;

  const rows: HopRow[] = hops.map((h) => {
    const d = observedState(h, 'discover');
    const o = observedState(h, 'offer');
    const notes: string[] = [];
    if (h.point.unobservable) notes.push(`not observable: ${h.point.unobservable}`);
    else if (h.obs?.status === 'unarmed') notes.push(`capture not armed: ${h.obs.error ?? 'unknown error'}`);
    else if (h.obs?.status === 'failed') notes.push(`capture failed: ${h.obs.error ?? 'unknown error'}`);
    else if (!h.obs) notes.push('not observed');
    if (h.point.expectTag !== undefined && h.discover.length > 0 && !h.discover.some((f) => f.vlanTags[0] === h.point.expectTag)) notes.push(`expected VLAN ${h.point.expectTag}`);
    if (h.point.expectOuterDst && h.discover.length > 0 && !h.discover.some((f) => f.encap?.outerDst === h.point.expectOuterDst)) notes.push(`expected tunnel to ${h.point.expectOuterDst}`);
    return {
      node: h.point.node,
      device: h.point.netns ? `${h.point.netns}:${h.point.iface}` : h.point.iface,
      role: h.point.role,
      discover: d === 'unknown' ? null : !h.point.expectDiscover && d === 'missing' ? null : d === 'seen',
      discoverTags: tagText(h.discover),
      offer: o === 'unknown' ? null : o === 'seen',
      offerTags: tagText(h.offer),
      discoverMs: t0 && h.discover[0] ? round3(nsDiffMs(h.discover[0].tsNs, t0)) : null,
      offerMs: t0 && h.offer[0] ? round3(nsDiffMs(h.offer[0].tsNs, t0)) : null,
      note: notes.filter(Boolean).join('; '),
    };
  });
  const unobserved = hops.filter((h) => observedState(h, 'discover') === 'unknown').map((h) => `${where(h.point)}: ${h.point.unobservable ?? h.obs?.error ?? 'not observed'}`);

  const offers = exchange?.offers ?? [];
  const offer: OfferSummary | undefined = offers[0] ? stripTs(offers[0]) : undefined;
  const base = { rows, unobserved, ...(fixedIp ? { fixedIp } : {}), ...(offer ? { offer } : {}) };
  const fail = (summary: string, at: DhcpVerdict['brokenAt'], causes: string[]): DhcpVerdict => ({ ok: false, summary, ...(at ? { brokenAt: at } : {}), causes: dedupe(causes), ...base });

  // 0. nothing could be sent
  if (plan.blockers.length > 0 || !plan.injection) {
    const fs = facts.filter((x) => x.node === port.host);
    return fail(`cannot send a DISCOVER as port ${port.portId}: ${plan.blockers.join('; ') || 'no injection point'}`, { node: port.host, device: port.ovs?.name ?? port.hostFacts.devices.qvo?.name ?? '-', role: 'resolution' }, fs.map((x) => x.text));
  }
  if (exchange?.error) {
    return fail(`sending the DISCOVER on ${port.host} ${plan.injection.iface} failed: ${exchange.error}`, { node: port.host, device: plan.injection.iface, role: hopOrderRole(plan.injection) }, facts.filter((x) => x.node === port.host).map((x) => x.text));
  }

  // 1. DISCOVER path, VM side → server
  const dPath = hops.filter((h) => h.point.expectDiscover);
  const dState = dPath.map((h) => observedState(h, 'discover'));
  let lastSeen = -1;
  dState.forEach((s, i) => {
    if (s === 'seen') lastSeen = i;
  });
  // a wrong tag / tunnel at a hop where it was seen is a break at that hop
  for (let i = 0; i <= lastSeen; i++) {
    const h = dPath[i]!;
    if (h.discover.length === 0) continue;
    const p = h.point;
    if (p.expectTag !== undefined) {
      const tags = h.discover.map((f) => f.vlanTags[0]);
      if (!tags.includes(p.expectTag)) {
        const got = tags[0];
        const rel = between(facts, hopOrder(p.role), hopOrder(p.role));
        const bridge = p.role === 'compute-uplink' ? port.hostFacts.segmentation?.bridge : undefined;
        const summary =
          got === undefined
            ? `DISCOVER left ${p.node} ${p.iface} untagged, network segmentation id is ${p.expectTag}: check VLAN translation flows${bridge ? ` on ${bridge}` : ''}`
            : p.role === 'compute-uplink'
              ? `DISCOVER left ${p.node} ${p.iface} tagged ${got}, network segmentation id is ${p.expectTag}: check VLAN translation flows on ${bridge ?? 'the physical bridge'}`
              : `DISCOVER reached ${p.node} ${p.iface} tagged ${got}, network segmentation id is ${p.expectTag}`;
        return fail(summary, { node: p.node, device: p.iface, role: p.role }, [...rel.map((x) => x.text), `VLAN translation (local VLAN ${port.ovs?.tag ?? '?'} → ${p.expectTag}) on ${p.node}`]);
      }
    }
    const encs = h.discover.filter((f) => f.encap).map((f) => f.encap!);
    if (p.encap === 'vxlan' && encs.length > 0) {
      if (p.expectVni !== undefined && !encs.some((e) => e.vni === p.expectVni)) {
        return fail(`DISCOVER left ${p.node} ${p.iface} in VNI ${encs[0]!.vni}, network segmentation id is ${p.expectVni}: check br-tun flows on ${p.node}`, { node: p.node, device: p.iface, role: p.role }, between(facts, hopOrder(p.role), hopOrder(p.role)).map((x) => x.text));
      }
      if (p.role === 'compute-uplink' && p.expectOuterDst && !encs.some((e) => e.outerDst === p.expectOuterDst)) {
        const server = port.servers.find((s) => s.underlay?.localIp === p.expectOuterDst)?.node ?? 'the DHCP node';
        const dsts = [...new Set(encs.map((e) => e.outerDst))].join(', ');
        return fail(
          `DISCOVER left ${p.node} ${p.iface} in a VXLAN tunnel to ${dsts}, ${server}'s underlay address is ${p.expectOuterDst}: check remote_ip of the vxlan port on br-tun`,
          { node: p.node, device: p.iface, role: p.role },
          [...between(facts, hopOrder(p.role), hopOrder(p.role)).map((x) => x.text), `the vxlan port towards ${server} on ${p.node} has a wrong options:remote_ip`],
        );
      }
    }
  }
  const nextMissing = dState.findIndex((s, i) => i > lastSeen && s === 'missing');
  const qdhcpSeen = dPath.some((h) => h.point.role === 'qdhcp' && observedState(h, 'discover') === 'seen');
  if (nextMissing >= 0 && !qdhcpSeen) {
    const a = lastSeen >= 0 ? dPath[lastSeen]!.point : undefined;
    const b = dPath[nextMissing]!.point;
    const lo = a ? hopOrder(a.role) : 0;
    const rel = between(facts, lo, hopOrder(b.role));
    let summary: string;
    if (!a) summary = `DISCOVER was not seen even at ${where(b)}: the injection did not reach the wire`;
    else if (a.node === b.node && hopOrder(b.role) <= hopOrder('qvo')) summary = `DISCOVER seen at ${a.iface}, not at ${b.iface}`;
    else if (a.role === 'compute-uplink' && b.role === 'dhcp-uplink') {
      const t = tagText(dPath[lastSeen]!.discover);
      summary = `DISCOVER left ${a.node} ${a.iface} ${t === 'untagged' ? 'untagged' : /^\d/.test(t) ? `tagged ${t}` : t} but never reached ${b.node} ${b.iface}`;
    } else summary = `DISCOVER seen at ${where(a)}, not at ${where(b)}`;
    const causes = [...rel.map((x) => x.text), ...discoverCauses(a, b, port)];
    if (rel[0]) summary += `: ${rel[0].short}`;
    else if (b.role === 'dhcp-uplink' && port.network.type === 'vlan') summary += `: VLAN ${port.network.segmentationId ?? '?'} not trunked between them?`;
    else if (b.role === 'qvo') summary += ': qvo missing from br-int or the veth is broken';
    return fail(summary, { node: b.node, device: b.iface, role: b.role }, causes);
  }
  if (lastSeen < 0 && dState.every((s) => s === 'unknown') && offers.length === 0) {
    return fail('no hop could be observed and no OFFER came back', { node: port.host, device: plan.injection.iface, role: hopOrderRole(plan.injection) }, facts.map((x) => x.text));
  }

  // 2. the server: DISCOVER reached the qdhcp port, did dnsmasq answer?
  const qdhcpHops = hops.filter((h) => h.point.role === 'qdhcp');
  const qdhcpOffer = qdhcpHops.some((h) => observedState(h, 'offer') === 'seen');
  const qdhcpUnknownOffer = qdhcpHops.every((h) => observedState(h, 'offer') === 'unknown');
  if (qdhcpSeen && !qdhcpOffer && offers.length === 0) {
    const h = qdhcpHops.find((x) => observedState(x, 'discover') === 'seen')!;
    const rel = facts.filter((x) => x.role === 'qdhcp' && x.node === h.point.node);
    const summary = rel.length
      ? `DISCOVER reached the qdhcp port ${where(h.point)}, no OFFER: ${rel.map((x) => x.short).join('; ')}`
      : `DISCOVER reached the qdhcp port ${where(h.point)}, no OFFER: dnsmasq not running or MAC not in its hostsfile`;
    return fail(summary, { node: h.point.node, device: h.point.iface, role: 'qdhcp' }, [...rel.map((x) => x.text), 'dnsmasq not running', `MAC ${port.mac} not in dnsmasq's hostsfile (or marked ignore)`, 'dnsmasq has no range for this subnet']);
  }

  // 3. OFFER path, server → VM side
  const oPath = hops.filter((h) => h.point.expectOffer).reverse();
  const oState = oPath.map((h) => observedState(h, 'offer'));
  let oLast = -1;
  oState.forEach((s, i) => {
    if (s === 'seen') oLast = i;
  });
  const oMissing = oState.findIndex((s, i) => i > oLast && s === 'missing');
  const anyOffer = oLast >= 0 || offers.length > 0;
  if (!anyOffer) {
    const causes = facts.map((x) => x.text);
    if (qdhcpUnknownOffer) return fail('no OFFER came back and the DHCP port could not be observed', { node: port.servers[0]?.node ?? port.host, device: port.servers[0]?.iface ?? '?', role: 'qdhcp' }, [...causes, 'dnsmasq not running or MAC not in its hostsfile']);
    return fail('no OFFER came back', { node: port.host, device: plan.injection.iface, role: hopOrderRole(plan.injection) }, causes);
  }
  if (oMissing >= 0) {
    const a = oLast >= 0 ? oPath[oLast]!.point : undefined;
    const b = oPath[oMissing]!.point;
    // an OFFER the injecting agent itself received proves the hops up to its device
    const agentGotIt = offers.length > 0 && plan.injection && hopOrder(b.role) >= hopOrder(hopOrderRole(plan.injection));
    if (!agentGotIt) {
      const rel = between(facts, hopOrder(b.role), a ? hopOrder(a.role) : 6);
      let summary = a ? `OFFER reached ${a.iface}${a.node !== b.node ? ` on ${a.node}` : ''}, not ${b.iface}${a.node !== b.node ? ` on ${b.node}` : ''}` : `OFFER not seen at ${where(b)}`;
      if (rel[0]) summary += `: ${rel[0].short}`;
      else if (b.role === 'tap' && port.hybrid) summary += ': tap not attached to qbr?';
      return fail(summary, { node: b.node, device: b.iface, role: b.role }, [...rel.map((x) => x.text), ...offerCauses(a, b, port)]);
    }
  }

  // 4. the answer itself
  const wrongIp = fixedIp ? offers.find((o) => o.yiaddr !== fixedIp) : undefined;
  if (wrongIp && fixedIp) {
    return { ...fail(`${wrongIp.server} offered ${wrongIp.yiaddr}, the port's fixed IP is ${fixedIp}`, { node: port.servers[0]?.node ?? '?', device: port.servers[0]?.iface ?? '?', role: 'offer' }, ['a stale dnsmasq hostsfile', 'another DHCP server answers on this network']), ipMatches: false };
  }
  if (input.full && exchange && !exchange.ack) {
    const why = exchange.nak ? `NAK${exchange.nak.message ? ` (${exchange.nak.message})` : ''}` : 'no ACK';
    return fail(`OFFER received, but the REQUEST got ${why}`, { node: port.servers[0]?.node ?? '?', device: port.servers[0]?.iface ?? '?', role: 'offer' }, ['dnsmasq refused the lease (NAK) or its answer was lost']);
  }
  const ipPart = offer ? ` offered ${offer.yiaddr}${fixedIp ? (offer.yiaddr === fixedIp ? ' (= fixed IP)' : '') : ''}` : '';
  const partial = unobserved.length ? ` (${unobserved.length} hop${unobserved.length > 1 ? 's' : ''} not observed)` : '';
  const ackPart = input.full ? (exchange?.released ? ', ACKed and released' : ', ACKed (release not confirmed)') : '';
  return {
    ok: true,
    summary: `DHCP works for port ${port.portId}:${ipPart}${ackPart}${partial}`,
    causes: [],
    ...base,
    ...(fixedIp && offer ? { ipMatches: offer.yiaddr === fixedIp } : {}),
  };
}

function hopOrderRole(inj: { mode: string }): HopRole {
  return inj.mode === 'pcap' ? 'qvb' : 'qvo';
}

function stripTs(o: OfferSummary & { tsNs: string }): OfferSummary {
  const { tsNs: _t, ...rest } = o;
  return rest;
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
