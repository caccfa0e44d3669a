/**
 * The OpenFlow tables a neutron-openvswitch-agent programs, reduced to what the lab
 * needs (pure: state in, flow lines out). Faults replace single flows; heal and a
 * vswitchd restart re-install these.
 */
import type { LabNode, LabState } from './types.js';

/** br-int table 0: VLAN translation segmentation id → local VLAN for frames from br-eth1. */
export function brIntFlows(state: LabState, node: LabNode): string[] {
  const out: string[] = [];
  for (const net of state.networks) {
    if (net.type !== 'vlan') continue;
    out.push(`table=0,priority=3,in_port=${node.ofPorts.intToPhys},dl_vlan=${net.segmentationId},actions=mod_vlan_vid:${net.localVlan[node.name]},NORMAL`);
  }
  out.push(`table=0,priority=2,in_port=${node.ofPorts.intToPhys},actions=drop`);
  out.push('table=0,priority=0,actions=NORMAL');
  return out;
}

/** The br-eth1 flow that translates a network's local VLAN to the wire VLAN `wireVid`. */
export function physTranslationFlow(node: LabNode, localVlan: number, wireVid: number): string {
  return `table=0,priority=4,in_port=${node.ofPorts.physToInt},dl_vlan=${localVlan},actions=mod_vlan_vid:${wireVid},NORMAL`;
}

/** br-eth1 table 0: local VLAN → segmentation id for frames from br-int; other br-int frames dropped. */
export function brPhysFlows(state: LabState, node: LabNode): string[] {
  const out: string[] = [];
  for (const net of state.networks) {
    if (net.type !== 'vlan') continue;
    out.push(physTranslationFlow(node, net.localVlan[node.name]!, net.segmentationId));
  }
  out.push(`table=0,priority=2,in_port=${node.ofPorts.physToInt},actions=drop`);
  out.push('table=0,priority=0,actions=NORMAL');
  return out;
}

/** br-tun: from br-int → flood to every tunnel with the VNI; from a tunnel with a known VNI → local VLAN → br-int. */
export function brTunFlows(state: LabState, node: LabNode): string[] {
  const tunnels = Object.values(node.ofPorts.vxlan);
  const out: string[] = [`table=0,priority=1,in_port=${node.ofPorts.tunToInt},actions=resubmit(,2)`];
  for (const t of tunnels) out.push(`table=0,priority=1,in_port=${t},actions=resubmit(,4)`);
  out.push('table=0,priority=0,actions=drop');
  out.push('table=2,priority=0,actions=resubmit(,22)');
  for (const net of state.networks) {
    if (net.type !== 'vxlan') continue;
    const lv = net.localVlan[node.name]!;
    out.push(`table=4,priority=1,tun_id=${net.segmentationId},actions=mod_vlan_vid:${lv},resubmit(,10)`);
    if (tunnels.length > 0) {
      out.push(`table=22,priority=1,dl_vlan=${lv},actions=strip_vlan,set_field:${net.segmentationId}->tun_id,${tunnels.map((t) => `output:${t}`).join(',')}`);
    }
  }
  out.push('table=4,priority=0,actions=drop');
  out.push(`table=10,priority=1,actions=output:${node.ofPorts.tunToInt}`);
  out.push('table=22,priority=0,actions=drop');
  return out;
}
