// The target checks: what cargo's config and `cargoArgs` say the app is built for, and whether
// this machine can build, link and run it: the Rust target installed, the target's linker (with a
// real test patch link for a cross target) and the runner `cargo run` would use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findOnPath, linkerCandidates, linkPatch } from '../engine/linker';
import { BINFMT_DIR, binfmtHandlerFor, binfmtLoaderProblem, describeBinfmt } from '../support/binfmt';
import { run } from '../support/process';
import { archOfTriple, CargoTargetConfig, hostArch, resolveCargoTarget } from '../workspace/cargo-config';
import type { DoctorCheck } from './types';

const SUPPORTED = /^(x86_64|aarch64)-unknown-linux-gnu$/;

function programFound(program: string): boolean {
  if (!program.includes('/')) return !!findOnPath(program);
  try {
    fs.accessSync(program, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function targetChecks(workspaceRoot: string, cargoArgs: string[], scratch: string, binfmtDir = BINFMT_DIR): Promise<DoctorCheck[]> {
  const config = await resolveCargoTarget(workspaceRoot, cargoArgs);
  const checks: DoctorCheck[] = [];
  if (config.problems.length) {
    checks.push({ id: 'cargo-config', title: 'cargo config', status: 'warn', detail: config.problems.join(' / '), fix: 'fix the cargo config files named' });
  }
  const triple = config.target ?? config.hostTriple;
  const cross = !!config.target && config.target !== config.hostTriple;
  checks.push(await targetInstalled(config, workspaceRoot));
  if (!triple || !SUPPORTED.test(triple)) return checks;
  const arch = archOfTriple(triple);
  checks.push(await targetLinker(config, triple, cross, scratch));
  checks.push(runnerCheck(config, triple, arch, binfmtDir));
  return checks;
}

async function targetInstalled(config: CargoTargetConfig & { hostTriple?: string }, cwd: string): Promise<DoctorCheck> {
  const title = 'target';
  if (!config.target) return { id: 'target', title, status: 'ok', detail: `the host (${config.hostTriple ?? 'unknown'})` };
  const t = config.target;
  if (!SUPPORTED.test(t)) {
    return { id: 'target', title, status: 'fail', detail: `${t} (${config.targetFrom})`, fix: 'subsecond-lsp patches x86_64-unknown-linux-gnu and aarch64-unknown-linux-gnu apps only' };
  }
  const r = await run('rustc', ['--print', 'target-libdir', '--target', t], { cwd });
  const dir = r.code === 0 ? r.stdout.trim() : '';
  let hasStd = false;
  try {
    hasStd = !!dir && fs.readdirSync(dir).some((f) => f.startsWith('libstd-'));
  } catch {
    hasStd = false;
  }
  if (!hasStd) return { id: 'target', title, status: 'fail', detail: `${t} (${config.targetFrom}): its standard library is not installed`, fix: `rustup target add ${t}` };
  return { id: 'target', title, status: 'ok', detail: `${t} (${config.targetFrom}), installed` };
}

async function targetLinker(config: CargoTargetConfig, triple: string, cross: boolean, scratch: string): Promise<DoctorCheck> {
  const title = 'target linker';
  const linker = config.linker?.command[0];
  if (!linker) {
    if (!cross) return { id: 'target-linker', title, status: 'ok', detail: 'cargo default (cc); see the C toolchain and patch linker checks' };
    return {
      id: 'target-linker',
      title,
      status: 'fail',
      detail: `no target.${triple}.linker: cargo would link ${triple} with the host's cc`,
      fix: `add to .cargo/config.toml: [target.${triple}] linker = "${archOfTriple(triple)}-linux-gnu-gcc" (Debian: apt-get install gcc-${archOfTriple(triple).replace('_', '-')}-linux-gnu libc6-dev-${archOfTriple(triple) === 'aarch64' ? 'arm64' : 'amd64'}-cross)`,
    };
  }
  if (!programFound(linker)) {
    return { id: 'target-linker', title, status: 'fail', detail: `\`${linker}\` (${config.linker!.from}) is not installed`, fix: `install \`${linker}\` or fix target.${triple}.linker` };
  }
  if (!cross) return { id: 'target-linker', title, status: 'ok', detail: `\`${linker}\` (${config.linker!.from})` };
  // A real test patch for the target, through its linker, with the engine's linker choice.
  const src = path.join(scratch, 'target-empty.c');
  const object = path.join(scratch, 'target-empty.o');
  fs.writeFileSync(src, 'int subsecond_doctor_probe(void) { return 0; }\n');
  const cc = await run(linker, ['-c', '-fPIC', src, '-o', object], { cwd: scratch });
  if (cc.spawnError || cc.code !== 0) {
    return { id: 'target-linker', title, status: 'fail', detail: `\`${linker}\` cannot compile for ${triple}: ${cc.stderr.trim().split('\n')[0] ?? ''}`, fix: `reinstall the cross toolchain behind \`${linker}\`` };
  }
  const out = await linkPatch({ driver: linker, candidates: linkerCandidates({}), objects: [object], output: path.join(scratch, 'target-probe.so'), keptArgs: [], cwd: scratch });
  if (!out.ok) return { id: 'target-linker', title, status: 'fail', detail: out.message.split('\n').slice(0, 3).join(' / '), fix: `install binutils for ${triple} (they come with the gcc cross package)` };
  return { id: 'target-linker', title, status: 'ok', detail: `\`${linker}\` (${config.linker!.from}); a test patch linked with ${out.linker.kind}` };
}

export function runnerCheck(config: CargoTargetConfig, triple: string, arch: string, binfmtDir = BINFMT_DIR, env: NodeJS.ProcessEnv = process.env): DoctorCheck {
  const title = 'runner';
  const runner = config.runner;
  if (runner) {
    const program = runner.command[0];
    if (!programFound(program)) return { id: 'runner', title, status: 'fail', detail: `\`${program}\` (${runner.from}) is not installed`, fix: `install it (qemu-user: apt-get install qemu-user-static) or fix target.${triple}.runner` };
    return { id: 'runner', title, status: 'ok', detail: `the app runs through \`${runner.command.join(' ')}\` (${runner.from})` };
  }
  if (arch !== hostArch()) {
    const binfmt = binfmtHandlerFor(arch, binfmtDir);
    const loaderProblem = binfmt && binfmtLoaderProblem(binfmt, arch, env);
    if (binfmt && !loaderProblem) {
      return { id: 'runner', title, status: 'ok', detail: `the ${arch} app runs directly on this ${hostArch()} machine: the kernel runs it through ${describeBinfmt(binfmt)}, entry ${binfmt.name}` };
    }
    if (binfmt) {
      return {
        id: 'runner',
        title,
        status: 'fail',
        detail: `binfmt_misc entry ${binfmt.name} would run the ${arch} app through ${binfmt.interpreter}, but ${loaderProblem}`,
        fix: `export QEMU_LD_PREFIX=/usr/${arch}-linux-gnu for the server, or add to .cargo/config.toml: [target.${triple}] runner = ["qemu-${arch}-static", "-L", "/usr/${arch}-linux-gnu"]`,
      };
    }
    return {
      id: 'runner',
      title,
      status: 'fail',
      detail: `a ${arch} app cannot run directly on this ${hostArch()} machine (no binfmt_misc entry for ${arch}) and no target.${triple}.runner is configured`,
      fix: `add to .cargo/config.toml: [target.${triple}] runner = ["qemu-${arch}-static", "-L", "/usr/${arch}-linux-gnu"] (apt-get install qemu-user-static)`,
    };
  }
  return { id: 'runner', title, status: 'ok', detail: 'the app runs directly (no runner configured)' };
}
