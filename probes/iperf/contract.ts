/**
 * iperf agent methods: one-off servers with a ledger lease, clients with every
 * parameter passed, results as one typed summary (iperf3 -J, or iperf2 -y C where
 * iperf3 is absent). Shared by the agent (node.ts) and the CLI (check.ts).
 */
import { z } from 'zod';
import { declare } from '../../src/rpc/method.js';
import { parseIPv4 } from '../../src/validate.js';

export const ipv4 = z.string().transform((s, ctx) => {
  try {
    return parseIPv4(s);
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
    return z.NEVER;
  }
});

export const protocol = z.enum(['tcp', 'udp']);
export type Protocol = z.infer<typeof protocol>;
export const tool = z.enum(['iperf3', 'iperf2']);
export type IperfTool = z.infer<typeof tool>;

/** lowest / highest port the agent picks from when the caller names none */
export const PORT_RANGE = { low: 15201, high: 15999 } as const;

const cpu = z.object({ total: z.number(), user: z.number(), system: z.number() });
export type Cpu = z.infer<typeof cpu>;

/** One direction of data: who sent, what was sent and what arrived. */
export const flow = z.object({
  /** which end sent the data */
  from: z.enum(['client', 'server']),
  sentBytes: z.number(),
  sentBps: z.number(),
  receivedBytes: z.number(),
  receivedBps: z.number(),
  /** TCP only (sender side); null for UDP or when unknown */
  retransmits: z.number().nullable(),
  /** UDP only (receiver side) */
  jitterMs: z.number().nullable(),
  lostPackets: z.number().nullable(),
  packets: z.number().nullable(),
  lostPercent: z.number().nullable(),
});
export type Flow = z.infer<typeof flow>;

export const iperfResult = z.object({
  tool,
  version: z.string().nullable(),
  protocol,
  durationS: z.number(),
  streams: z.number().int(),
  reverse: z.boolean(),
  bidir: z.boolean(),
  /** flows[0]: the test's main direction (client→server, or server→client with reverse); flows[1]: bidir's other one */
  flows: z.array(flow).min(1).max(2),
  cpu: z.object({ client: cpu.nullable(), server: cpu.nullable() }),
  /** local/remote address of the first stream */
  connection: z.object({ local: z.string(), localPort: z.number(), remote: z.string(), remotePort: z.number() }).nullable(),
  /** text around the JSON, a second object, etc. */
  warnings: z.array(z.string()),
  /** iperf reported an error after partial results (e.g. interrupted) */
  error: z.string().nullable(),
});
export type IperfResult = z.infer<typeof iperfResult>;

export const serverStart = declare(
  'iperf.serverStart',
  z
    .object({
      /** address on this node to listen on (the network type's address) */
      bind: ipv4,
      /** iperf2 needs it at the server; iperf3 ignores it */
      protocol: protocol.default('tcp'),
      /** preferred port; another one is chosen when it is in use */
      port: z.number().int().min(1024).max(65535).optional(),
      /** lease: the server is killed after this long whatever happens (default 60 s) */
      ttlMs: z.number().int().min(200).max(3_600_000).default(60_000),
      /** false: keep serving until stopped (compat); default one test (-1) */
      oneOff: z.boolean().default(true),
      /** restrict to one tool (testing, or the caller's peer only has iperf2) */
      tool: tool.optional(),
      /** label for the ledger (e.g. 'net compute-1→compute-2') */
      label: z.string().max(120).optional(),
    })
    .strict(),
  z.object({
    id: z.string(),
    port: z.number().int(),
    pid: z.number().int(),
    tool,
    version: z.string().nullable(),
    bind: z.string(),
    /** ports tried before this one that were in use */
    busyPorts: z.array(z.number().int()),
    /** ms from the call to the listening socket being seen */
    readyMs: z.number(),
    /** cumulative ms at each step (tool, spawn, lease, listening) */
    timingsMs: z.record(z.number()).optional(),
  }),
  'start a one-off iperf3 server (iperf2 where iperf3 is absent) bound to an address, under a lease',
  15_000,
);

export const serverStop = declare(
  'iperf.serverStop',
  z.object({ id: z.string().min(1).max(80), waitMs: z.number().int().min(0).max(10_000).default(500) }).strict(),
  z.object({
    id: z.string(),
    /** false: it was gone already (lease expired or unknown id) */
    stopped: z.boolean(),
    /** the server exited by itself after its one test */
    exitedByItself: z.boolean(),
    exitCode: z.number().int().nullable(),
    /** the server's own view of the test, when it printed one */
    result: iperfResult.nullable(),
    error: z.string().nullable(),
    /** iperf2 only: the server's CSV (the CLI merges it with the client's) */
    raw: z.string().optional(),
  }),
  'stop an iperf server started by iperf.serverStart and return its own report',
  15_000,
);

export const clientParams = z
  .object({
    server: ipv4,
    port: z.number().int().min(1).max(65535),
    /** local address to send from (the network type's address on this node) */
    bind: ipv4.optional(),
    protocol: protocol.default('tcp'),
    durationS: z.number().int().min(1).max(3600).default(10),
    parallel: z.number().int().min(1).max(128).default(1),
    /** target bit/s (-b); UDP defaults to 1 Mbit/s in iperf3 when absent */
    bandwidth: z.number().int().min(1).optional(),
    reverse: z.boolean().default(false),
    bidir: z.boolean().default(false),
    /** socket buffer bytes (-w) */
    window: z.number().int().min(1024).max(1 << 30).optional(),
    /** TCP MSS bytes (-M) */
    mss: z.number().int().min(88).max(65535).optional(),
    /** which tool the server runs (must match) */
    tool: tool.optional(),
  })
  .strict()
  .refine((p) => !(p.reverse && p.bidir), { message: 'reverse and bidir are exclusive' })
  .refine((p) => p.mss === undefined || p.protocol === 'tcp', { message: 'mss applies to TCP only' });
export type ClientParams = z.infer<typeof clientParams>;

export const client = declare(
  'iperf.client',
  clientParams,
  iperfResult.extend({ argv: z.array(z.string()), elapsedMs: z.number(), raw: z.string().optional() }),
  'run an iperf3 client (-J) against a server and return the parsed summary',
  60_000,
);

/** Which tools this agent has. */
export const tools = declare(
  'iperf.tools',
  z.object({}).strict(),
  z.object({ iperf3: z.string().nullable(), iperf2: z.string().nullable() }),
  'iperf3 / iperf2 versions on this agent (null = absent)',
  10_000,
);
