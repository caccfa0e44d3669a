import test from 'ava';
import { mtuResult, type MtuDirection } from '../../../probes/mtu/run.js';
import type { MtuSearchResult } from '../../../probes/mtu/contract.js';

function search(pathMtu: number | null, extra: Partial<MtuSearchResult> = {}): MtuSearchResult {
  return { node: 'x', dest: '10.0.0.2', routeIface: 'br-eth1', routeIfaceMtu: 1500, low: 84, high: 1500, pathMtu, firstFailing: null, fragNeeded: null, localLimit: null, reachable: pathMtu !== null, probes: [], elapsedMs: 1, ...extra };
}
const nics = (b: number) => [
  { node: 'a', iface: 'eth1', mtu: 1500, role: 'net NIC' },
  { node: 'b', iface: 'eth1', mtu: b, role: 'net NIC' },
];

test('the smaller direction is the path MTU; equal NICs and a full path are ok with the VXLAN figure', (t) => {
  const dirs: MtuDirection[] = [
    { from: 'a', to: 'b', dest: '10.0.0.2', search: search(1500) },
    { from: 'b', to: 'a', dest: '10.0.0.1', search: search(1500) },
  ];
  const r = mtuResult(dirs, nics(1500));
  t.true(r.ok);
  t.is((r.data as any).pathMtu, 1500);
  t.is((r.data as any).vxlanTenantMtu, 1450);
  t.regex(r.verdict, /between a and b is 1500; VXLAN over it carries ≤ 1450/);
});

test('a smaller NIC: path MTU is the minimum, both figures shown, fault', (t) => {
  const dirs: MtuDirection[] = [
    { from: 'a', to: 'b', dest: '10.0.0.2', search: search(1404) },
    { from: 'b', to: 'a', dest: '10.0.0.1', search: search(1400, { localLimit: 1400 }) },
  ];
  const r = mtuResult(dirs, nics(1400));
  t.false(r.ok);
  t.is((r.data as any).pathMtu, 1400);
  t.regex(r.verdict, /a → b: 1404, b → a: 1400/);
  t.regex(r.verdict, /smallest is 1400 on b:eth1/);
});

test('frag-needed is reported with the router and its next-hop MTU', (t) => {
  const r = mtuResult([{ from: 'a', to: 'b', dest: '10.0.0.2', search: search(1400, { fragNeeded: { size: 1500, from: '10.0.0.254', nextHopMtu: 1400 } }) }], nics(1500));
  t.regex(r.verdict, /frag-needed from 10.0.0.254 \(next-hop MTU 1400\)/);
  t.false(r.ok);
});

test('unreachable: no path MTU, fault', (t) => {
  const r = mtuResult([{ from: 'a', to: 'b', dest: '10.0.0.2', search: search(null) }], nics(1500));
  t.false(r.ok);
  t.is((r.data as any).pathMtu, null);
  t.regex(r.verdict, /does not answer a/);
});
