/**
 * CLI-side helpers shared by the VLAN, ARP and MTU checks: which agents and NICs,
 * RPC errors turned into operator messages, captured frames → probe observations.
 */
import type { Config, AgentEntry, NetworkTypeName } from '../../src/config/types.js';
import { findAgent } from '../../src/config/load.js';
import { StethError, type StethErrorCode } from '../../src/errors.js';
import type { AgentClient } from '../../src/rpc/client.js';
import { decodeFrame, findLayer, vlanStack } from '../../src/packet/index.js';
import type { CapturedFrame } from '../../src/capture/capture.js';
import type { ProbeObservation } from './analysis.js';

/** What the checks need from the CLI (CliContext fits; tests build one from a lab config). */
export interface ProbeDeps {
  config(): Promise<Config>;
  client(agentName: string): AgentClient;
  signal: AbortSignal;
}

export const NETWORK_TYPES: readonly NetworkTypeName[] = ['mgmt', 'net', 'storage'];

export function assertNetworkType(t: string): NetworkTypeName {
  if (!(NETWORK_TYPES as readonly string[]).includes(t)) throw new StethError('EINVAL', `network type '${t}' is not one of ${NETWORK_TYPES.join(', ')}`);
  return t as NetworkTypeName;
}

export function agentOf(cfg: Config, name: string): AgentEntry {
  return findAgent(cfg, name);
}

/** The NIC an agent uses for a network type: [agent NAME] X_nic, else network_types. */
export function nicFor(cfg: Config, agent: AgentEntry, type: NetworkTypeName): string | undefined {
  return agent.nics[type] ?? cfg.networkTypes.find((t) => t.type === type)?.nic;
}

/** Which network type an agent's interface belongs to (undefined if none names it). */
export function typeOfIface(cfg: Config, agent: AgentEntry, iface: string): NetworkTypeName | undefined {
  return NETWORK_TYPES.find((t) => nicFor(cfg, agent, t) === iface);
}

/** An agent's address on a network type. */
export function addressFor(agent: AgentEntry, type: NetworkTypeName): string | undefined {
  return agent.addresses[type];
}

/** Turn an RPC/agent failure into a StethError naming the agent (keeps domain codes). */
export function agentError(agent: string, what: string, e: unknown): StethError {
  if (e instanceof StethError) return new StethError(e.code, `${agent}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
  const r = e as { name?: string; message?: string; data?: { code?: string; hint?: string } };
  if (r && r.name === 'RpcError') {
    const code = (r.data?.code ?? 'EAGENT') as StethErrorCode;
    const known: StethErrorCode[] = ['EINVAL', 'ECONFIG', 'ENOENT', 'EPERM', 'ETOOL', 'ETIMEDOUT', 'ECANCELED', 'EAGENT', 'EBUSY', 'EFAULT'];
    return new StethError(known.includes(code) ? code : 'EAGENT', `${agent}: ${what}: ${r.message ?? 'RPC error'}`, { ...(r.data?.hint ? { hint: r.data.hint } : {}), cause: e });
  }
  return new StethError('EAGENT', `${agent}: ${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** Decode a captured frame into a probe observation (undefined if it is not a steth probe). */
export function frameToObservation(f: CapturedFrame): ProbeObservation | undefined {
  const d = decodeFrame(f.bytes);
  const p = findLayer(d.layers, 'probe');
  if (!p) return undefined;
  const eth = findLayer(d.layers, 'ethernet');
  const obs: ProbeObservation = {
    tsNs: f.tsNs,
    tags: vlanStack(d.layers).map((v) => ({ tpid: v.tpid, vid: v.vid, pcp: v.pcp })),
    probeId: p.probeId,
    seq: p.seq,
    sentNs: BigInt(p.sentNs),
    ...(eth ? { srcMac: eth.src } : {}),
  };
  return obs;
}

export function ms(ns: number | undefined): number | null {
  return ns === undefined ? null : Math.round(ns / 1000) / 1000;
}
