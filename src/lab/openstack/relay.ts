/**
 * A small TCP relay run inside the control-plane namespace: it publishes
 * services bound to 127.0.0.1 (Keystone, Neutron, RabbitMQ) on the lab's mgmt
 * address so the second compute node's agent and the root namespace reach them.
 *
 *   node relay.js LISTEN_IP:PORT=TARGET_IP:PORT [...]
 *
 * Runs until SIGTERM. Only ever started by the lab (argv, inside the lab netns).
 */
import { createServer, connect, type Socket } from 'node:net';

function parse(spec: string): { lhost: string; lport: number; thost: string; tport: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})=(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(spec);
  if (!m) throw new Error(`bad relay spec '${spec}' (want IP:PORT=IP:PORT)`);
  return { lhost: m[1]!, lport: Number(m[2]), thost: m[3]!, tport: Number(m[4]) };
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

export function startRelays(specs: readonly string[]): Promise<void> {
  return Promise.all(specs.map((s) => {
    const { lhost, lport, thost, tport } = parse(s);
    const server = createServer((client) => {
      client.setNoDelay(true);
      const upstream = connect({ host: thost, port: tport });
      upstream.setNoDelay(true);
      pipeBoth(client, upstream);
    });
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(lport, lhost, () => resolve());
    });
  })).then(() => undefined);
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  startRelays(process.argv.slice(2)).then(
    () => process.stdout.write(`relay up: ${process.argv.slice(2).join(' ')}\n`),
    (e: Error) => {
      process.stderr.write(`relay: ${e.message}\n`);
      process.exit(1);
    },
  );
  process.on('SIGTERM', () => process.exit(0));
}
