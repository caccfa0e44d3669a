/**
 * Parse-time validation for commander arguments and options: a bad VLAN id, MAC,
 * CIDR or interface name is an InvalidArgumentError (usage, exit 2) before any
 * agent is contacted.
 */
import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { assertIfName, assertNetnsName, assertVlanId, parseCidr, parseMac, parseIPv4, assertUuid, assertPort } from '../validate.js';

function wrap<T>(fn: (v: string) => T): (v: string) => T {
  return (v: string) => {
    try {
      return fn(v);
    } catch (e) {
      throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
    }
  };
}

export const ifNameArg = wrap((v) => assertIfName(v));
export const bridgeArg = wrap((v) => assertIfName(v, 'bridge name'));
export const netnsArg = wrap((v) => assertNetnsName(v));
export const vlanArg = wrap((v) => {
  if (!/^\d+$/.test(v)) throw new Error(`VLAN id '${v}' is not a whole number`);
  return assertVlanId(Number(v));
});
export const cidrArg = wrap((v) => parseCidr(v).text);
export const macArg = wrap((v) => parseMac(v));
export const ipv4Arg = wrap((v) => parseIPv4(v));
export const uuidArg = wrap((v) => assertUuid(v, 'port id'));
export const portArg = wrap((v) => assertPort(v));
export const secondsArg = wrap((v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`'${v}' is not a positive number of seconds`);
  return n;
});

export const netnsOption = () => new Option('--netns <name>', 'inside this network namespace on the agent (e.g. qdhcp-NETID)').argParser(netnsArg);

/** A whole number in min..max (commander argParser): `--count <n>` and the like. */
export function intArg(name: string, min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number ${min}..${max}`);
    return n;
  };
}
