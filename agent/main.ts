export async function main(_argv: string[]): Promise<void> {
  process.stderr.write('steth-agent: not implemented yet\n');
  process.exitCode = 2;
}
