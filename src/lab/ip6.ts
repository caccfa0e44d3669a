/**
 * Keep the lab quiet: no IPv6 link-local addresses (so no router solicitations, DAD
 * or MLD in anyone's captures). Instead of a sysctl per namespace, every
 * `link set DEV ... up` line of an ip batch gets `addrgenmode none` first.
 */
export function quiet(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = /^link set (\S+) (?:.* )?up$/.exec(l);
    if (m && m[1] !== 'lo' && m[1] !== 'dev') out.push(`link set dev ${m[1]} addrgenmode none`);
    out.push(l);
  }
  return out;
}
