/**
 * check-ports-on-br AGENT BRIDGE PORT...: are these ports on that OVS bridge?
 * (a fault, exit 1, when one is missing); find-port PORT_ID: which agent and
 * bridge carry a Neutron port (asks every agent's OVSDB, no credentials needed).
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../../src/cli/context.js';
import { EXIT, type CheckResult } from '../../src/report/model.js';
import { bridgeArg, ifNameArg, uuidArg } from '../../src/cli/args.js';
import { describeError } from '../../src/cli/errors.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('check-ports-on-br')
    .description('check that each PORT is on the OVS bridge BRIDGE of an agent (tag, ofport, iface-id shown)')
    .argument('<agent>', 'agent name from steth.conf')
    .argument('<bridge>', 'OVS bridge, e.g. br-int or br-eth1', bridgeArg)
    .argument('<ports...>', 'port names (one or more)', (v: string, prev: string[] | undefined) => [...(prev ?? []), ifNameArg(v)])
    .addHelpText('after', '\nExample:\n  steth check-ports-on-br server-64 br-eth1 eth1 phy-br-eth1')
    .action(async (agent, bridge, ports) => {
      await ctx.config();
      const { ovsPorts } = await import('./contract.js');
      const r = await ctx.client(agent).call(ovsPorts, { bridge }, { signal: ctx.signal });
      const byName = new Map(r.ports.map((p) => [p.name, p]));
      const rows = ports.map((name) => {
        const p = byName.get(name);
        return {
          port: name,
          present: p !== undefined,
          tag: p?.tag ?? null,
          ofport: p?.ofport ?? null,
          type: p?.type ?? null,
          iface_id: p?.externalIds['iface-id'] ?? null,
          error: p?.error ?? null,
        };
      });
      const missing = rows.filter((x) => !x.present).map((x) => x.port);
      const broken = rows.filter((x) => x.present && (x.ofport === -1 || x.error !== null)).map((x) => x.port);
      const ok = missing.length === 0 && broken.length === 0;
      const verdict = ok
        ? `all ${ports.length} ports are on ${bridge} on ${agent}`
        : [missing.length ? `not on ${bridge}: ${missing.join(', ')}` : '', broken.length ? `on ${bridge} but not attached (ofport -1 / error): ${broken.join(', ')}` : ''].filter(Boolean).join('; ');
      ctx.out.emit({
        command: 'check-ports-on-br',
        ok,
        verdict,
        tables: [{ title: `${bridge} on ${agent}`, columns: ['port', 'present', 'tag', 'ofport', 'type', 'iface_id', 'error'], rows }],
        data: { agent, bridge, requested: rows, allPorts: r.ports },
      });
    });

  program
    .command('find-port')
    .description('find which agent and OVS bridge carry a Neutron port (external_ids:iface-id), asking every agent')
    .argument('<port_id>', 'Neutron port UUID', uuidArg)
    .action(async (portId) => {
      const cfg = await ctx.config();
      const { ovsFindPort } = await import('./contract.js');
      const results = await ctx.fanOut(cfg.agents, (a, signal) => ctx.client(a.name).call(ovsFindPort, { portId }, { signal }));
      const rows = results.map((r) => ({
        agent: r.item.name,
        found: r.ok ? r.value!.found : null,
        bridge: r.value?.port?.bridge ?? null,
        device: r.value?.port?.name ?? null,
        tag: r.value?.port?.tag ?? null,
        ofport: r.value?.port?.ofport ?? null,
        mac: r.value?.port?.externalIds['attached-mac'] ?? null,
        error: r.ok ? null : describeError(r.error).message,
      }));
      const hits = rows.filter((r) => r.found === true);
      const failed = rows.filter((r) => r.error !== null);
      const result: CheckResult = {
        command: 'find-port',
        ok: hits.length > 0,
        verdict: hits.length
          ? `port ${portId} is ${hits.map((h) => `${h.device} on ${h.bridge} of ${h.agent}`).join(', ')}`
          : `port ${portId} is on no agent's OVS${failed.length ? ` (${failed.length} agents did not answer)` : ''}`,
        tables: [{ columns: ['agent', 'found', 'bridge', 'device', 'tag', 'ofport', 'mac', 'error'], rows }],
        data: rows,
      };
      if (hits.length === 0 && failed.length > 0) result.exitCode = EXIT.AGENT;
      ctx.out.emit(result);
    });
}
