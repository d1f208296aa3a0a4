// How the fat binary is started, the way `cargo run` starts it: through `target.<triple>.runner`
// when cargo's config names one (an emulator such as qemu-user for another architecture, or a
// wrapper for the host), directly otherwise. A binary for another architecture without a runner
// runs directly only when the kernel hands it to an interpreter itself (a binfmt_misc entry such
// as qemu-user-static's, with the app's loader where qemu looks for it); otherwise it is refused
// with the fix instead of being exec'd (the kernel would refuse it, or a shell would try to read
// it as a script).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findOnPath } from '../engine';
import { BINFMT_DIR, binfmtHandlerFor, binfmtLoaderProblem, describeBinfmt } from '../support/binfmt';
import { hostArch, type CargoTargetConfig } from '../workspace/cargo-config';

export type LaunchCommand =
  | { ok: true; /** The runner and its arguments, put before the executable; empty: run it directly. */ runner: string[]; note?: string }
  | { ok: false; message: string };

export function launchCommandFor(
  binName: string,
  exeArch: string,
  config: CargoTargetConfig,
  envPath = process.env.PATH ?? '',
  binfmtDir = BINFMT_DIR,
  env: NodeJS.ProcessEnv = process.env,
): LaunchCommand {
  const triple = config.target ?? 'the host';
  const runner = config.runner;
  if (runner) {
    const program = runner.command[0];
    const found = program.includes('/') ? isExecutable(program) : !!findOnPath(program, envPath);
    if (!found) {
      return {
        ok: false,
        message: `the runner \`${program}\` (${runner.from}) ${program.includes('/') ? 'does not exist or is not executable' : 'was not found on PATH'}: install it or fix target.${config.target ?? '<host triple>'}.runner, as \`cargo run\` would need it too`,
      };
    }
    return { ok: true, runner: runner.command, note: `${binName} runs through \`${runner.command.join(' ')}\` (${runner.from})` };
  }
  if (exeArch !== hostArch()) {
    const t = config.target ?? '<triple>';
    const binfmt = binfmtHandlerFor(exeArch, binfmtDir);
    const loaderProblem = binfmt && binfmtLoaderProblem(binfmt, exeArch, env);
    if (binfmt && !loaderProblem) return { ok: true, runner: [], note: `${binName} (${exeArch}) runs directly: the kernel runs it through ${describeBinfmt(binfmt)}` };
    const why = binfmt
      ? `binfmt_misc would run it through ${binfmt.interpreter}, but ${loaderProblem}: set QEMU_LD_PREFIX=/usr/${exeArch}-linux-gnu, or configure a runner as for \`cargo run\`. `
      : `it needs a runner, as for \`cargo run\`. `;
    return {
      ok: false,
      message:
        `${binName} is built for ${exeArch} (${triple}) and this machine is ${hostArch()}: ${why}` +
        `Add to .cargo/config.toml: [target.${t}] runner = ["qemu-${exeArch}-static", "-L", "/usr/${exeArch}-linux-gnu"] (Debian: apt-get install qemu-user-static)`,
    };
  }
  return { ok: true, runner: [] };
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(path.resolve(p)).isFile();
  } catch {
    return false;
  }
}
