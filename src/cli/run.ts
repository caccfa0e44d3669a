export async function main(): Promise<void> {
  process.stderr.write('steth: not implemented yet\n');
  process.exitCode = 2;
}
