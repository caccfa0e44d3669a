/** The agent's Node flags are the same wherever it starts: its bin's shebang says them too. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS } from '../../../agent/node-flags.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'steth-agent.js');

test('bin/steth-agent starts node with exactly AGENT_NODE_FLAGS (env -S shebang)', (t) => {
  const first = readFileSync(BIN, 'utf8').split('\n')[0]!;
  t.is(first, `#!/usr/bin/env -S node ${AGENT_NODE_FLAGS.join(' ')}`);
  for (const f of AGENT_NODE_FLAGS) t.regex(f, /^--[a-z0-9-]+=\d+$/, 'plain --flag=N (nothing a shell would touch)');
});
