/**
 * One OVSDB read over the database socket itself (RFC 7047 `transact` with three
 * `select`s), instead of forking ovs-vsctl: the DHCP check asks every agent about the
 * port at once, and under load a fork costs more than the whole answer. Read-only; the
 * caller falls back to ovs-vsctl (src/host/ovs.ts) on any error.
 */
import { connect } from 'node:net';
import { StethError } from '../../src/errors.js';
import type { OvsSnapshot } from '../../src/host/ovs.js';

type Cell = unknown;

function atoms(v: Cell): unknown[] {
  if (Array.isArray(v) && v[0] === 'set') return v[1] as unknown[];
  return [v];
}
function uuidOf(v: Cell): string | undefined {
  return Array.isArray(v) && v[0] === 'uuid' ? String(v[1]) : undefined;
}
function single(v: Cell): unknown {
  const a = atoms(v);
  return a.length === 0 ? null : a[0];
}
function map(v: Cell): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === 'map') for (const [k, val] of v[1] as Array<[unknown, unknown]>) out[String(k)] = String(val);
  return out;
}

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
  const ifaceByUuid = new Map(it.map((r) => [uuidOf(r._uuid), r]));
  const portByUuid = new Map(pt.map((r) => [uuidOf(r._uuid), r]));
  const view: OvsdbView = { bridges: [], ports: [], options: {} };
  for (const i of it) view.options[String(i.name)] = map(i.options);
  for (const b of bt) {
    const bname = String(b.name);
    const names: string[] = [];
    for (const pu of atoms(b.ports)) {
      const p = portByUuid.get(uuidOf(pu));
      if (!p) continue;
      names.push(String(p.name));
      const i = ifaceByUuid.get(uuidOf(atoms(p.interfaces)[0]));
      const tag = single(p.tag);
      const ofport = i ? single(i.ofport) : null;
      const mac = i ? single(i.mac_in_use) : null;
      const err = i ? single(i.error) : null;
      view.ports.push({
        name: String(p.name),
        bridge: bname,
        tag: typeof tag === 'number' ? tag : null,
        trunks: atoms(p.trunks).filter((x): x is number => typeof x === 'number'),
        ofport: typeof ofport === 'number' ? ofport : null,
        type: i ? String(single(i.type) ?? '') : '',
        mac: typeof mac === 'string' && mac !== '' ? mac : null,
        externalIds: { ...map(p.external_ids), ...(i ? map(i.external_ids) : {}) },
        error: typeof err === 'string' && err !== '' ? err : null,
      });
    }
    view.bridges.push({ name: bname, ports: names.sort() });
  }
  return view;
}
