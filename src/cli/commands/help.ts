/** `steth help [COMMAND | exit-codes]` — help topics beside commander's own help. */
import type { Command } from '@commander-js/extra-typings';
import { withoutConfig, type CliContext } from '../context.js';
import { EXIT_CODE_HELP } from '../errors.js';
import { StethError } from '../../errors.js';

export const TOPICS: Record<string, string> = {
  'exit-codes': EXIT_CODE_HELP,
};

export function register(program: Command, _ctx: CliContext): void {
  program.helpCommand(false);
  withoutConfig(program.command('help'))
    .argument('[topic]', `a command name or a topic (${Object.keys(TOPICS).join(', ')})`)
    .description('show help for a command or a topic (exit-codes)')
    .action((topic, _opts, cmd) => {
      const root = cmd.parent ?? program;
      if (topic === undefined) {
        root.outputHelp();
        return;
      }
      const text = TOPICS[topic];
      if (text !== undefined) {
        root.configureOutput().writeOut?.(text);
        return;
      }
      const sub = root.commands.find((c) => c.name() === topic || c.aliases().includes(topic));
      if (!sub) throw new StethError('EINVAL', `no command or help topic '${topic}'`, { hint: `topics: ${Object.keys(TOPICS).join(', ')}; commands: steth --help` });
      sub.outputHelp();
    });
}
