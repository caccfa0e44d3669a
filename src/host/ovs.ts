/**
 * Open vSwitch facts from a given OVSDB remote (`unix:/path/db.sock`; the lab runs one
 * per node), never by parsing text output. One read takes Bridge, Port and Interface
 * together: over the database socket itself (ovsdb.ts, RFC 7047) where it can be
 * reached, else through `ovs-vsctl --format=json`. Writes go through ovs-vsctl.
 */
import { run } from './exec.js';
import { ovsdbEndpoint, ovsdbTransact, type OvsdbSelect } from './ovsdb.js';
import { StethError } from '../errors.js';
import { assertBridgeName, assertUuid, printable } from '../validate.js';
import type { OvsPort } from '../../probes/ovs/contract.js';

export type { OvsPort };

export interface OvsOptions {
  signal?: AbortSignal;
  /** deadline in seconds for the OVSDB read or ovs-vsctl --timeout (default 5) */
  timeoutSec?: number;
}

/** The system's OVSDB socket when no remote is given (what ovs-vsctl uses by default). */
export function defaultOvsdb(): string {
  return `unix:${process.env.OVS_RUNDIR ?? '/var/run/openvswitch'}/db.sock`;
}

/** Validate an OVSDB remote: unix:/abs/path, tcp:IP:PORT, ssl:IP:PORT. */
export function assertOvsdb(db: unknown): string {
  if (typeof db !== 'string' || !/^(unix:\/[A-Za-z0-9_.\/-]+|(tcp|ssl):[0-9A-Za-z.\-\[\]:]+:\d{1,5})$/.test(db)) {
    throw new StethError('ECONFIG', `'${printable(String(db))}' is not an OVSDB remote`, { hint: 'expected unix:/run/openvswitch/db.sock or tcp:IP:PORT' });
  }
  return db;
}

/** Run ovs-vsctl against `ovsdb` (undefined = the system default socket). */
export async function ovsVsctl(ovsdb: string | undefined, args: readonly string[], opts: OvsOptions = {}): Promise<string> {
  const argv = [`--timeout=${opts.timeoutSec ?? 5}`];
  if (ovsdb !== undefined) argv.push(`--db=${assertOvsdb(ovsdb)}`);
  argv.push(...args);
  const r = await run('ovs-vsctl', argv, { allowFail: true, timeoutMs: ((opts.timeoutSec ?? 5) + 5) * 1000, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (r.code !== 0) {
    const err = r.stderr.trim().split('\n').slice(-2).join(' / ');
    if (/database connection failed|Connection refused|No such file or directory|timeout|alarm/i.test(err) || r.code === 142) {
      throw new StethError('ETOOL', `cannot reach OVSDB${ovsdb ? ` at ${ovsdb}` : ''}: ${err || `exit ${r.code}`}`, { hint: 'is ovsdb-server running? (agent --ovsdb unix:PATH)' });
    }
    if (/no bridge named|no row|not found/i.test(err)) throw new StethError('ENOENT', `ovs-vsctl: ${err}`);
    throw new StethError('ETOOL', `ovs-vsctl ${args.filter((a) => !a.startsWith('--')).slice(0, 3).join(' ')} failed: ${err || `exit ${r.code}`}`);
  }
  return r.stdout;
}

type OvsValue = unknown;
interface OvsTable {
  headings: string[];
  data: OvsValue[][];
}

/** ["set", [...]] / ["map", [[k,v]...]] / ["uuid", id] / scalar → JS */
function atoms(v: OvsValue): unknown[] {
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as unknown[]).map(atom);
  return [atom(v)];
}
function atom(v: OvsValue): unknown {
  if (Array.isArray(v) && (v[0] === 'uuid' || v[0] === 'named-uuid')) return v[1];
  return v;
}
function single(v: OvsValue): unknown {
  const a = atoms(v);
  return a.length === 0 ? null : a[0];
}
export function ovsMap(v: OvsValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === 'map') for (const [k, val] of v[1] as Array<[unknown, unknown]>) out[String(k)] = String(val);
  return out;
}
function rows(t: OvsTable): Array<Record<string, OvsValue>> {
  return t.data.map((r) => Object.fromEntries(t.headings.map((h, i) => [h, r[i]])));
}

export interface OvsSnapshot {
  bridges: Array<{ name: string; ports: string[] }>;
  ports: OvsPort[];
  /** Interface options (remote_ip, local_ip, peer ...) by interface name */
  options: Record<string, Record<string, string>>;
}

const BRIDGE_COLUMNS = ['_uuid', 'name', 'ports'];
const PORT_COLUMNS = ['_uuid', 'name', 'tag', 'trunks', 'interfaces', 'external_ids'];
const IFACE_COLUMNS = ['_uuid', 'name', 'type', 'ofport', 'mac_in_use', 'external_ids', 'error', 'options'];

/**
 * Bridges with their ports (tag, trunks, ofport, type, mac, external_ids of the first
 * Interface) and interface options. Over the OVSDB socket when `ovsdb` is unix: or tcp:
 * (or absent: the system socket); through ovs-vsctl where the socket cannot be used
 * (ssl: remotes, no default socket, a server that refuses the read).
 */
export async function ovsSnapshot(ovsdb: string | undefined, opts: OvsOptions = {}): Promise<OvsSnapshot> {
  const remote = ovsdb === undefined ? defaultOvsdb() : assertOvsdb(ovsdb);
  if (ovsdbEndpoint(remote)) {
    try {
      return await ovsdbSnapshot(remote, opts);
    } catch (e) {
      // a named remote that cannot be reached, answers late or was cancelled: ovs-vsctl would only repeat that, slower
      const err = e as StethError;
      const unreachable = err.code === 'ETIMEDOUT' || err.code === 'ECANCELED' || (err.detail as { stage?: string } | undefined)?.stage === 'connect';
      if (ovsdb !== undefined && unreachable) throw err;
    }
  }
  return await vsctlSnapshot(ovsdb, opts);
}

/** The three selects of a snapshot (Bridge, Port, Interface; the columns snapshotFromRows reads). */
export function snapshotOps(): OvsdbSelect[] {
  return [
    { op: 'select', table: 'Bridge', where: [], columns: [...BRIDGE_COLUMNS] },
    { op: 'select', table: 'Port', where: [], columns: [...PORT_COLUMNS] },
    { op: 'select', table: 'Interface', where: [], columns: [...IFACE_COLUMNS] },
  ];
}

/** The snapshot read over the database socket: one transact, three selects. */
export async function ovsdbSnapshot(remote: string, opts: OvsOptions = {}): Promise<OvsSnapshot> {
  const [bt, pt, it] = await ovsdbTransact(remote, 'Open_vSwitch', snapshotOps(), { timeoutMs: (opts.timeoutSec ?? 5) * 1000, ...(opts.signal ? { signal: opts.signal } : {}) });
  return snapshotFromRows(bt!.rows, pt!.rows, it!.rows);
}

/** The same snapshot through `ovs-vsctl --format=json list` of the three tables. */
async function vsctlSnapshot(ovsdb: string | undefined, opts: OvsOptions): Promise<OvsSnapshot> {
  return snapshotFromVsctl(await ovsVsctl(ovsdb, vsctlSnapshotArgs(), opts));
}

/** ovs-vsctl arguments listing the same tables and columns as snapshotOps(), one JSON table per line. */
export function vsctlSnapshotArgs(): string[] {
  return ['--format=json', ...snapshotOps().flatMap((o) => ['--', `--columns=${o.columns!.join(',')}`, 'list', o.table])];
}

/** `ovs-vsctl --format=json list` output of the three tables → the snapshot. */
export function snapshotFromVsctl(out: string): OvsSnapshot {
  const tables = out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as OvsTable;
      } catch {
        throw new StethError('ETOOL', `ovs-vsctl did not print JSON: ${printable(l.slice(0, 80))}`);
      }
    });
  if (tables.length !== 3) throw new StethError('ETOOL', `ovs-vsctl printed ${tables.length} tables, expected 3`);
  const [bt, pt, it] = tables.map(rows) as [Array<Record<string, OvsValue>>, Array<Record<string, OvsValue>>, Array<Record<string, OvsValue>>];
  return snapshotFromRows(bt, pt, it);
}

/**
 * Bridge / Port / Interface rows (RFC 7047 notation, as ovs-vsctl --format=json and the
 * OVSDB socket both give them) → bridges with their ports and interface options. The one
 * decoder for both readers (socket and ovs-vsctl).
 */
export function snapshotFromRows(
  bt: ReadonlyArray<Record<string, OvsValue>>,
  pt: ReadonlyArray<Record<string, OvsValue>>,
  it: ReadonlyArray<Record<string, OvsValue>>,
): OvsSnapshot {
  const ifaceByUuid = new Map(it.map((r) => [String(atom(r._uuid)), r]));
  const portByUuid = new Map(pt.map((r) => [String(atom(r._uuid)), r]));
  const bridges: OvsSnapshot['bridges'] = [];
  const ports: OvsPort[] = [];
  const options: OvsSnapshot['options'] = {};
  for (const i of it) if (i.options !== undefined) options[String(i.name)] = ovsMap(i.options);
  for (const b of bt) {
    const bname = String(b.name);
    const names: string[] = [];
    for (const puuid of atoms(b.ports)) {
      const p = portByUuid.get(String(puuid));
      if (!p) continue;
      names.push(String(p.name));
      const ifaceUuid = atoms(p.interfaces)[0];
      const i = ifaceUuid === undefined ? undefined : ifaceByUuid.get(String(ifaceUuid));
      const tag = single(p.tag);
      const ofport = i ? single(i.ofport) : null;
      const mac = i ? single(i.mac_in_use) : null;
      const err = i ? single(i.error) : null;
      ports.push({
        name: String(p.name),
        bridge: bname,
        tag: typeof tag === 'number' ? tag : null,
        trunks: atoms(p.trunks).filter((x): x is number => typeof x === 'number'),
        ofport: typeof ofport === 'number' ? ofport : null,
        type: i ? String(single(i.type) ?? '') : '',
        mac: typeof mac === 'string' && mac !== '' ? mac : null,
        externalIds: { ...ovsMap(p.external_ids), ...(i ? ovsMap(i.external_ids) : {}) },
        error: typeof err === 'string' && err !== '' ? err : null,
      });
    }
    bridges.push({ name: bname, ports: names.sort() });
  }
  // rows come in whatever order the server keeps them: sort, so both readers give the same snapshot
  bridges.sort((a, b) => a.name.localeCompare(b.name));
  ports.sort((a, b) => a.bridge.localeCompare(b.bridge) || a.name.localeCompare(b.name));
  return { bridges, ports, options };
}

/** Ports of one bridge; ENOENT (listing the bridges that exist) when there is no such bridge. */
export async function listBridgePorts(ovsdb: string | undefined, bridge: string, opts: OvsOptions = {}): Promise<OvsPort[]> {
  assertBridgeName(bridge);
  const snap = await ovsSnapshot(ovsdb, opts);
  if (!snap.bridges.some((b) => b.name === bridge)) {
    throw new StethError('ENOENT', `no OVS bridge '${bridge}'`, { hint: snap.bridges.length ? `bridges here: ${snap.bridges.map((b) => b.name).join(', ')}` : 'this OVSDB has no bridges' });
  }
  return snap.ports.filter((p) => p.bridge === bridge).sort((a, b) => a.name.localeCompare(b.name));
}

/** The Interface whose external_ids:iface-id is this Neutron port id, with its bridge. */
export async function findIfaceByPortId(ovsdb: string | undefined, portId: string, opts: OvsOptions = {}): Promise<OvsPort | undefined> {
  const id = assertUuid(portId, 'port id').replace(/-/g, '');
  const snap = await ovsSnapshot(ovsdb, opts);
  return snap.ports.find((p) => (p.externalIds['iface-id'] ?? '').toLowerCase().replace(/-/g, '') === id);
}
