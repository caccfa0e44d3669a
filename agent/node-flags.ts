/**
 * Node flags the agent runs with, wherever it is started: the shebang of bin/steth-agent
 * (kept equal by test/unit/agent/node-flags.test.ts), the embedded labs and the agent
 * benchmark. The agent is resident on every node, so memory counts:
 *
 * --max-semi-space-size=1 (MB): a burst of concurrent requests grows V8's new space to its
 * default maximum (16 MB semi-spaces, 32 MB in all) and it stays grown while the agent idles.
 * `npm run bench -- agent`, idle RSS after its bursts: 77.6 MB uncapped (goal <= 70 MB),
 * 69.4 MB at 2 MB, 65.7 and 66.5 MB at 1 MB (two runs); agent.hello p50 ~0.75 ms and p99
 * ~3.7 ms at every setting; 200 concurrent requests answered in 169-185 ms instead of
 * ~150 ms (more scavenges). V8 reads the flag only at start-up (v8.setFlagsFromString later
 * has no effect, checked), hence on the command line.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
