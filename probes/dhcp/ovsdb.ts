/**
 * One OVSDB read over the database socket itself (RFC 7047 `transact` with three
 * `select`s), instead of forking ovs-vsctl: the DHCP check asks every agent about the
 * port at once, and under load a fork costs more than the whole answer. Read-only; the
 * caller falls back to ovs-vsctl (src/host/ovs.ts) on any error.
 */
import { connect } from 'node:net';
import { StethError } from '../../src/errors.js';
import { ovsMap, snapshotFromRows, type OvsSnapshot } from '../../src/host/ovs.js';

type Cell = unknown;

export interface OvsdbView extends OvsSnapshot {
  /** Interface options (remote_ip, local_ip, peer ...) by interface name */
  options: Record<string, Record<string, string>>;
}

/** Bridges, ports (tag, ofport, type, external_ids, error) and interface options in one transaction. */
export async function ovsdbView(remote: string, timeoutMs = 5000): Promise<OvsdbView> {
  const m = /^unix:(\/.+)$/.exec(remote);
  if (!m) throw new StethError('EINVAL', 'only unix: OVSDB remotes are read directly');
  const req = {
    id: 1,
    method: 'transact',
    params: [
      'Open_vSwitch',
      { op: 'select', table: 'Bridge', where: [], columns: ['_uuid', 'name', 'ports'] },
      { op: 'select', table: 'Port', where: [], columns: ['_uuid', 'name', 'tag', 'trunks', 'interfaces', 'external_ids'] },
      { op: 'select', table: 'Interface', where: [], columns: ['_uuid', 'name', 'type', 'ofport', 'mac_in_use', 'external_ids', 'error', 'options'] },
    ],
  };
  const reply = await new Promise<{ result?: Array<{ rows?: Array<Record<string, Cell>>; error?: string }>; error?: unknown }>((resolve, reject) => {
    const sock = connect(m[1]!);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new StethError('ETIMEDOUT', `OVSDB at ${remote} did not answer in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req)));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let msg: { id?: unknown; result?: unknown; error?: unknown };
      try {
        msg = JSON.parse(buf) as typeof msg;
      } catch {
        return; // incomplete
      }
      buf = '';
      if (msg.id !== 1) return; // e.g. an echo request
      clearTimeout(timer);
      sock.destroy();
      resolve(msg as never);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new StethError('ETOOL', `cannot reach OVSDB at ${remote}: ${e.message}`));
    });
  });
  if (reply.error || !reply.result || reply.result.length < 3 || reply.result.some((r) => r.error)) throw new StethError('ETOOL', `OVSDB at ${remote} refused the read`);
  const [bt, pt, it] = reply.result.map((r) => r.rows ?? []) as [Array<Record<string, Cell>>, Array<Record<string, Cell>>, Array<Record<string, Cell>>];
  const view: OvsdbView = { ...snapshotFromRows(bt, pt, it), options: {} };
  for (const i of it) view.options[String(i.name)] = ovsMap(i.options);
  return view;
}
