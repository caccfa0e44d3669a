/**
 * print-agents-info: the configured agents, their addresses per network type,
 * and (unless --offline) whether each answers agent.hello — fanned out with the
 * configured concurrency; an unreachable agent is a row, not a crash.
 * With OpenStack credentials, also Neutron's agent list beside them
 * (./neutron-agents.ts; src/openstack is loaded only then).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context.js';
import { EXIT, type CheckResult } from '../../report/model.js';
import { describeError } from '../errors.js';
import { openstackCredentialsMayExist } from '../openstack.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('print-agents-info')
    .description("list the configured agents and check that each one answers; with OpenStack credentials also Neutron's agents")
    .addOption(new Option('--offline', 'only print the configuration, do not contact the agents (nor Neutron)'))
    .addHelpText('after', '\nExamples:\n  steth print-agents-info\n  steth print-agents-info -f json\n  steth print-agents-info -c name -c reachable -f value\n  OS_CLOUD=mycloud steth print-agents-info -c host -c type -c alive -f value')
    .action(async (opts) => {
      const cfg = await ctx.config();
      const progress = ctx.out.progress(`asking ${cfg.agents.length} agents`);
      // Neutron's list in parallel with the agents; never rejects (a failure is a note).
      // Its module (and src/openstack behind it) loads only when credentials can exist.
      const nx = opts.offline || !openstackCredentialsMayExist(ctx.env, cfg) ? undefined : await import('./neutron-agents.js');
      const neutronP = nx?.listNeutronAgents(ctx, cfg);
      const results = opts.offline
        ? cfg.agents.map((item) => ({ item, ok: true as boolean, value: undefined as undefined | Awaited<ReturnType<typeof hello>>, error: undefined as unknown }))
        : await ctx.fanOut(cfg.agents, (a, signal) => hello(ctx, a.name, signal));
      const neutron = await neutronP;
      progress.stop();
      const rows = results.map((r) => {
        const v = r.value;
        const err = r.ok ? undefined : describeError(r.error);
        return {
          name: r.item.name,
          url: r.item.url,
          role: r.item.role ?? null,
          mgmt: r.item.addresses.mgmt ?? null,
          net: r.item.addresses.net ?? null,
          storage: r.item.addresses.storage ?? null,
          reachable: opts.offline ? null : r.ok,
          version: v?.version ?? null,
          node: v?.nodeName ?? null,
          uptime: v ? Math.round(v.uptime) : null,
          error: err ? err.message : null,
        };
      });
      const down = rows.filter((r) => r.reachable === false);
      const ok = down.length === 0 && cfg.agents.length > 0;
      const result: CheckResult = {
        command: 'print-agents-info',
        ok,
        verdict: cfg.agents.length === 0
          ? `no agents configured${cfg.source ? ` in ${cfg.source}` : ' (no config file: /etc/steth/steth.conf, --config or STETH_CONFIG)'}`
          : opts.offline
            ? `${cfg.agents.length} agents configured`
            : ok
              ? `all ${cfg.agents.length} agents answer`
              : `${down.length} of ${cfg.agents.length} agents unreachable: ${down.map((d) => d.name).join(', ')}`,
        tables: [{ columns: opts.offline ? ['name', 'url', 'role', 'mgmt', 'net', 'storage'] : ['name', 'url', 'role', 'mgmt', 'net', 'storage', 'reachable', 'version', 'uptime', 'error'], rows }],
        data: { source: cfg.source, networkTypes: cfg.networkTypes, agents: rows },
      };
      if (!ok) result.exitCode = EXIT.AGENT;
      if (cfg.agents.length === 0) result.exitCode = EXIT.USAGE;
      if (neutron && nx) {
        const part = nx.neutronAgentsPart(neutron, results.map((r) => ({ name: r.item.name, nodeName: r.value?.nodeName ?? null, hostname: r.value?.hostname ?? null })));
        result.tables[0]!.title = 'steth agents';
        if (part.table) result.tables.push(part.table);
        if (part.notes.length) result.tables.push({ title: 'Notes', columns: ['Note'], rows: part.notes.map((n) => ({ Note: n })) });
        result.verdict += `; ${part.verdict}`;
        result.exitCode = nx.worseExit(result.exitCode ?? (result.ok ? EXIT.OK : EXIT.FAULT), part.exitCode);
        result.ok &&= part.ok;
        result.data = { ...(result.data as object), neutron: part.data };
      }
      ctx.out.emit(result);
    });
}

async function hello(ctx: CliContext, name: string, signal: AbortSignal) {
  const { agentHello } = await import('../../../agent/contract.js');
  return await ctx.client(name).call(agentHello, {}, { signal });
}
