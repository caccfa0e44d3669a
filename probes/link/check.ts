/**
 * setup-link / teardown-link / add-vlan-to-interface: the original commands,
 * now leased on the agent (undone on teardown, expiry or agent restart).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { fieldTable } from '../../src/report/model.js';
import { cidrArg, ifNameArg, secondsArg, vlanArg } from '../../src/cli/args.js';

const ttlOption = () => new Option('--ttl <seconds>', 'undo automatically after this long (default 3600)').argParser(secondsArg);

export function register(program: Command, ctx: CliContext): void {
  program
    .command('setup-link')
    .description('bring IFACE up and add CIDR on an agent (leased: undone by teardown-link, on --ttl expiry, or if the agent restarts)')
    .argument('<agent>', 'agent name from steth.conf')
    .argument('<iface>', 'interface name', ifNameArg)
    .argument('<cidr>', 'address/prefix, e.g. 10.1.0.5/24', cidrArg)
    .addOption(ttlOption())
    .addHelpText('after', '\nExample:\n  steth setup-link server-64 eth1 10.1.0.64/24 --ttl 600')
    .action(async (agent, iface, cidr, opts) => {
      await ctx.config();
      const { linkSetup } = await import('./contract.js');
      const params = { iface, cidr, ...(opts.ttl !== undefined ? { ttlMs: Math.round(opts.ttl * 1000) } : {}) };
      const r = await ctx.client(agent).call(linkSetup, params, { signal: ctx.signal });
      const did = [r.broughtUp ? 'brought up' : 'already up', r.addedAddress ? `added ${r.cidr}` : `${r.cidr} already present`];
      ctx.out.emit({
        command: 'setup-link',
        ok: true,
        verdict: `${iface} on ${agent}: ${did.join(', ')} (until ${r.expiresAt})`,
        tables: [fieldTable({ agent, iface: r.iface, cidr: r.cidr, brought_up: r.broughtUp, added_address: r.addedAddress, leases: r.leaseIds.join(' '), expires: r.expiresAt })],
        data: r,
      });
    });

  program
    .command('teardown-link')
    .description('undo what setup-link / add-vlan-to-interface did on IFACE (and delete --cidr if given)')
    .argument('<agent>', 'agent name from steth.conf')
    .argument('<iface>', 'interface name', ifNameArg)
    .addOption(new Option('--cidr <cidr>', 'also delete this address even if steth did not add it').argParser(cidrArg))
    .action(async (agent, iface, opts) => {
      await ctx.config();
      const { linkTeardown } = await import('./contract.js');
      const r = await ctx.client(agent).call(linkTeardown, { iface, ...(opts.cidr !== undefined ? { cidr: opts.cidr } : {}) }, { signal: ctx.signal });
      ctx.out.emit({
        command: 'teardown-link',
        ok: true,
        verdict: r.undone.length ? `${iface} on ${agent}: ${r.undone.join('; ')}` : `${iface} on ${agent}: nothing to undo`,
        tables: [{ columns: ['agent', 'iface', 'undone'], rows: r.undone.map((u) => ({ agent, iface, undone: u })) }],
        data: r,
      });
    });

  program
    .command('add-vlan-to-interface')
    .description('create the 802.1Q subinterface IFACE.VLAN_ID on an agent (needs the 8021q kernel module; leased like setup-link)')
    .argument('<agent>', 'agent name from steth.conf')
    .argument('<iface>', 'parent interface', ifNameArg)
    .argument('<vlan_id>', 'VLAN id 1..4094', vlanArg)
    .addOption(new Option('--cidr <cidr>', 'also add this address to the subinterface').argParser(cidrArg))
    .addOption(ttlOption())
    .addHelpText('after', '\nExample:\n  steth add-vlan-to-interface server-64 eth1 100 --cidr 10.100.0.64/24\nTo test trunking without changing hosts use check-vlan-interface.')
    .action(async (agent, iface, vlanId, opts) => {
      await ctx.config();
      const { vlanAddToInterface } = await import('./contract.js');
      const params = { iface, vlanId, ...(opts.cidr !== undefined ? { cidr: opts.cidr } : {}), ...(opts.ttl !== undefined ? { ttlMs: Math.round(opts.ttl * 1000) } : {}) };
      const r = await ctx.client(agent).call(vlanAddToInterface, params, { signal: ctx.signal });
      ctx.out.emit({
        command: 'add-vlan-to-interface',
        ok: true,
        verdict: `${r.iface} created on ${agent} (until ${r.expiresAt})`,
        tables: [fieldTable({ agent, iface: r.iface, parent: r.parent, vlan_id: r.vlanId, leases: r.leaseIds.join(' '), expires: r.expiresAt })],
        data: r,
      });
    });
}
