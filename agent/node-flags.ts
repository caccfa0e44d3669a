/**
 * Node flags the agent runs with, wherever it is started: the shebang of bin/steth-agent
 * (kept equal by test/unit/agent/node-flags.test.ts), the embedded labs and the agent
 * benchmark. The agent is resident on every node, so memory counts:
 *
 * --max-semi-space-size=2 (MB): a burst of concurrent requests grows V8's new space to its
 * default maximum (16 MB semi-spaces, 32 MB in all) and it stays grown while the agent idles.
 * Capped, `npm run bench -- agent` measured idle RSS after its bursts at 66 MB instead of
 * 78 MB (goal <= 70 MB), agent.hello p50/p99 unchanged, and 200 concurrent requests answered
 * in ~190 ms instead of ~150 ms (more scavenges). V8 reads the flag only at start-up
 * (v8.setFlagsFromString later has no effect), hence on the command line.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
