/**
 * Agent side of link changes. Every change is leased BEFORE it is made (so a
 * crash between the two leaves a lease whose undo is harmless), and a failed
 * change releases its lease at once.
 */
import { implement, type AgentContext, type MethodImpl, type UndoAction } from '../../src/rpc/method.js';
import { run } from '../../src/host/exec.js';
import { assertIfaceExists, ifaceExists, ifaceReport } from '../../src/host/iface.js';
import { StethError } from '../../src/errors.js';
import { parseCidr } from '../../src/validate.js';
import { linkSetup, linkTeardown, vlanAddToInterface } from './contract.js';

export const DEFAULT_LINK_TTL_MS = 3600_000;

/** Lease, then act; release the lease if the act fails. */
async function leased(ctx: AgentContext, kind: string, undo: UndoAction, ttlMs: number, label: string, act: () => Promise<void>): Promise<string> {
  const id = ctx.ledger.acquire(kind, undo, ttlMs, undefined, label);
  try {
    await act();
  } catch (e) {
    await ctx.ledger.release(id).catch(() => undefined);
    throw e;
  }
  return id;
}

async function ip(args: string[], signal: AbortSignal): Promise<void> {
  await run('ip', args, { signal });
}

export async function setupLink(iface: string, cidrText: string, ttlMs: number, ctx: AgentContext) {
  await assertIfaceExists(iface, { signal: ctx.signal });
  const cidr = parseCidr(cidrText);
  const before = await ifaceReport(iface, { signal: ctx.signal });
  const leaseIds: string[] = [];
  let broughtUp = false;
  let addedAddress = false;
  try {
    if (!before.adminUp) {
      leaseIds.push(await leased(ctx, 'link.up', { type: 'link-set', iface, state: 'down' }, ttlMs, iface, () => ip(['link', 'set', 'dev', iface, 'up'], ctx.signal)));
      broughtUp = true;
    }
    const has = before.addresses.some((a) => a.family === 'inet' && a.address === cidr.address && a.prefix === cidr.prefix);
    if (!has) {
      leaseIds.push(await leased(ctx, 'link.addr', { type: 'addr-del', iface, cidr: cidr.text }, ttlMs, iface, () => ip(['addr', 'add', cidr.text, 'dev', iface], ctx.signal)));
      addedAddress = true;
    }
  } catch (e) {
    for (const id of leaseIds.reverse()) await ctx.ledger.release(id).catch(() => undefined);
    throw e;
  }
  return { iface, cidr: cidr.text, addedAddress, broughtUp, leaseIds, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
}

export async function teardownLink(iface: string, cidrText: string | undefined, ctx: AgentContext) {
  const undone: string[] = [];
  const leases = ctx.ledger.list?.() ?? [];
  const mine = leases.filter((l) => 'iface' in l.undo && l.undo.iface === iface).sort((a, b) => b.expiresAt - a.expiresAt);
  for (const l of mine) {
    await ctx.ledger.release(l.id);
    undone.push(describe(l.undo));
  }
  if (cidrText !== undefined) {
    const cidr = parseCidr(cidrText);
    if (await ifaceExists(iface, { signal: ctx.signal })) {
      const now = await ifaceReport(iface, { signal: ctx.signal });
      if (now.addresses.some((a) => a.family === 'inet' && a.address === cidr.address && a.prefix === cidr.prefix)) {
        await ip(['addr', 'del', cidr.text, 'dev', iface], ctx.signal);
        undone.push(`address ${cidr.text} deleted`);
      }
    }
  }
  if (mine.length === 0 && cidrText === undefined) await assertIfaceExists(iface, { signal: ctx.signal });
  return { iface, undone };
}

function describe(u: UndoAction): string {
  switch (u.type) {
    case 'addr-del':
      return `address ${u.cidr} deleted`;
    case 'link-set':
      return `link set ${u.state}`;
    case 'link-del':
      return `link ${u.iface} deleted`;
    case 'kill':
      return `process ${u.pid} stopped`;
    default:
      return 'nothing';
  }
}

export async function addVlanToInterface(parent: string, vlanId: number, cidrText: string | undefined, ttlMs: number, ctx: AgentContext) {
  const name = `${parent}.${vlanId}`;
  if (Buffer.byteLength(name) > 15) {
    throw new StethError('EINVAL', `VLAN interface name '${name}' would be longer than 15 bytes`, { hint: 'use a parent interface with a shorter name' });
  }
  await assertIfaceExists(parent, { signal: ctx.signal });
  if (await ifaceExists(name, { signal: ctx.signal })) {
    throw new StethError('EBUSY', `${name} already exists`, { hint: `steth teardown-link AGENT ${name} removes it if steth made it` });
  }
  const leaseIds: string[] = [];
  leaseIds.push(
    await leased(ctx, 'vlan.sub', { type: 'link-del', iface: name }, ttlMs, parent, async () => {
      const r = await run('ip', ['link', 'add', 'link', parent, 'name', name, 'type', 'vlan', 'id', String(vlanId)], { allowFail: true, signal: ctx.signal });
      if (r.code !== 0) {
        if (/Unknown device type|not supported|Operation not supported/i.test(r.stderr)) {
          throw new StethError('ETOOL', `this kernel cannot create VLAN subinterfaces: the 8021q module is not available (${r.stderr.trim()})`, {
            hint: 'modprobe 8021q (or install the kernel modules package); check-vlan-interface tests trunking with tagged probe frames and needs no subinterface',
          });
        }
        if (/Operation not permitted/i.test(r.stderr)) throw new StethError('EPERM', `not allowed to create ${name}`, { hint: 'run steth-agent as root or grant CAP_NET_ADMIN' });
        throw new StethError('ETOOL', `ip link add ${name} type vlan failed: ${r.stderr.trim()}`);
      }
      await ip(['link', 'set', 'dev', name, 'up'], ctx.signal);
    }),
  );
  if (cidrText !== undefined) {
    const cidr = parseCidr(cidrText);
    try {
      await ip(['addr', 'add', cidr.text, 'dev', name], ctx.signal);
    } catch (e) {
      for (const id of leaseIds) await ctx.ledger.release(id).catch(() => undefined);
      throw e;
    }
  }
  return { iface: name, parent, vlanId, leaseIds, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
}

export const methods: MethodImpl[] = [
  implement(linkSetup, async (p, ctx) => await setupLink(p.iface, p.cidr, p.ttlMs ?? DEFAULT_LINK_TTL_MS, ctx)),
  implement(linkTeardown, async (p, ctx) => await teardownLink(p.iface, p.cidr, ctx)),
  implement(vlanAddToInterface, async (p, ctx) => await addVlanToInterface(p.iface, p.vlanId, p.cidr, p.ttlMs ?? DEFAULT_LINK_TTL_MS, ctx)),
];
