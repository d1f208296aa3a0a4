// `subsecond-lsp doctor [--manifest-path P] [--bin B] [--package N] [-- CARGO_ARGS]`: prints the
// checks as plain text; exit code 1 when one fails, 2 on bad arguments.
import { formatDoctorReport, runDoctor } from '../doctor';
import { parseRunArgs } from './run';

export async function runDoctorCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`${args}\nusage: subsecond-lsp doctor [--manifest-path P] [--bin B] [--package N] [-- CARGO_ARGS]\n`);
    return 2;
  }
  const report = await runDoctor({ manifestPath: args.manifestPath, bin: args.bin, package: args.package, cargoArgs: args.cargoArgs, cwd: process.cwd() });
  const color = process.stdout.isTTY ? (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m` : (_: number, s: string) => s;
  process.stdout.write(formatDoctorReport(report, color));
  return report.ok ? 0 : 1;
}
