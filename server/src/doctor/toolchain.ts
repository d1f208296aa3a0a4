// Machine checks: the platform, the Rust toolchain, the C toolchain and the patch linker. The
// linker check links a real (empty) patch the way the engine does, with the engine's own linker
// choice, so "ok" means a patch link works here, not just that a binary exists.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseDriver, findGccLdDir, linkerCandidates, linkPatch } from '../engine/linker';
import { run } from '../support/process';
import type { DoctorCheck } from './types';

/** The oldest Rust the agent crate supports (agent-crate/Cargo.toml `rust-version`). */
export const MIN_RUST: [number, number] = [1, 85];

export interface RustInfo {
  version?: [number, number, number];
  /** `stable`, `beta` or `nightly` (from the release's suffix). */
  channel?: string;
  /** The compiler's commit date, `2026-04-14`. */
  commitDate?: string;
  host?: string;
  sysroot?: string;
}

export function platformCheck(rustHost: string | undefined): DoctorCheck {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  const supported = process.platform === 'linux' && (arch === 'x86_64' || arch === 'aarch64');
  const hostOk = !rustHost || /^(x86_64|aarch64)-unknown-linux-gnu$/.test(rustHost);
  if (supported && hostOk) return { id: 'platform', title: 'platform', status: 'ok', detail: `linux ${arch}${rustHost ? ` (rustc host ${rustHost})` : ''}` };
  return {
    id: 'platform',
    title: 'platform',
    status: 'fail',
    detail: `${process.platform} ${arch}${rustHost ? `, rustc host ${rustHost}` : ''}`,
    fix: 'subsecond-lsp patches apps on Linux x86_64 and aarch64 with the GNU target (x86_64/aarch64-unknown-linux-gnu) only',
  };
}

export async function rustToolchain(cwd: string): Promise<{ check: DoctorCheck; info: RustInfo }> {
  const fix = 'install Rust with rustup (https://rustup.rs), then open a new shell so cargo and rustc are on PATH';
  const rustc = await run('rustc', ['-vV'], { cwd });
  if (rustc.spawnError || rustc.code !== 0) {
    const why = rustc.spawnError ? 'rustc was not found on PATH' : `rustc -vV failed: ${rustc.stderr.trim().split('\n')[0]}`;
    return { check: { id: 'rust-toolchain', title: 'Rust toolchain', status: 'fail', detail: why, fix }, info: {} };
  }
  const info: RustInfo = {};
  const v = /^release:\s*(\d+)\.(\d+)\.(\d+)/m.exec(rustc.stdout);
  if (v) info.version = [+v[1], +v[2], +v[3]];
  const release = /^release:\s*(\S+)/m.exec(rustc.stdout)?.[1];
  if (release) info.channel = /-nightly|-dev/.test(release) ? 'nightly' : /-beta/.test(release) ? 'beta' : 'stable';
  info.commitDate = /^commit-date:\s*(\d{4}-\d{2}-\d{2})/m.exec(rustc.stdout)?.[1];
  info.host = /^host:\s*(\S+)/m.exec(rustc.stdout)?.[1];
  const sysroot = await run('rustc', ['--print', 'sysroot'], { cwd });
  if (sysroot.code === 0) info.sysroot = sysroot.stdout.trim();
  const cargo = await run('cargo', ['--version'], { cwd });
  if (cargo.spawnError || cargo.code !== 0) {
    return { check: { id: 'rust-toolchain', title: 'Rust toolchain', status: 'fail', detail: 'rustc runs but cargo was not found on PATH', fix }, info };
  }
  const versions = `${describeRustc(rustc.stdout.split('\n')[0], info)}, ${cargo.stdout.trim()}`;
  if (info.version && (info.version[0] < MIN_RUST[0] || (info.version[0] === MIN_RUST[0] && info.version[1] < MIN_RUST[1]))) {
    return {
      check: { id: 'rust-toolchain', title: 'Rust toolchain', status: 'fail', detail: `${versions}: older than ${MIN_RUST.join('.')}`, fix: 'rustup update stable' },
      info,
    };
  }
  return { check: { id: 'rust-toolchain', title: 'Rust toolchain', status: 'ok', detail: versions }, info };
}

/** Nightly rustc mangles with v0 by default from this commit date on. */
const V0_DEFAULT_SINCE = '2025-11-21';

/** `rustc 1.95.0 (59807616e 2026-04-14)` with its channel and commit date. */
function describeRustc(firstLine: string, info: RustInfo): string {
  const facts: string[] = [];
  if (info.channel) facts.push(`${info.channel} channel`);
  if (info.commitDate) facts.push(`commit date ${info.commitDate}`);
  // Only what is known: later stable releases are expected to switch too (the symbol-names check
  // says what a build really used).
  if (info.channel === 'nightly' && info.commitDate !== undefined && info.commitDate >= V0_DEFAULT_SINCE) facts.push('v0 symbol names by default');
  return facts.length ? `${firstLine} [${facts.join(', ')}]` : firstLine;
}

const C_FIX = 'install a C toolchain: `sudo apt-get install build-essential` (Debian/Ubuntu), `sudo dnf install gcc` (Fedora)';

/** The C compiler compiles an empty file; the object is kept in `scratch` for the linker check. */
export async function cToolchain(scratch: string): Promise<{ check: DoctorCheck; driver?: string; object?: string }> {
  const driver = chooseDriver(undefined);
  if (!driver) return { check: { id: 'c-toolchain', title: 'C toolchain', status: 'fail', detail: 'no C compiler (cc, gcc or clang) on PATH', fix: C_FIX } };
  const src = path.join(scratch, 'empty.c');
  const object = path.join(scratch, 'empty.o');
  fs.writeFileSync(src, 'int subsecond_doctor_probe(void) { return 0; }\n');
  const r = await run(driver, ['-c', '-fPIC', src, '-o', object], { cwd: scratch });
  if (r.spawnError || r.code !== 0 || !fs.existsSync(object)) {
    const why = r.spawnError ? r.spawnError.message : r.stderr.trim().split('\n').slice(0, 3).join(' / ');
    return { check: { id: 'c-toolchain', title: 'C toolchain', status: 'fail', detail: `${driver} cannot compile a C file: ${why}`, fix: C_FIX }, driver };
  }
  return { check: { id: 'c-toolchain', title: 'C toolchain', status: 'ok', detail: `${driver} compiles` }, driver, object };
}

export async function patchLinker(scratch: string, rust: RustInfo, driver: string | undefined, object: string | undefined): Promise<DoctorCheck> {
  const title = 'patch linker';
  const fix = `subsecond-lsp links patches through the C compiler with rust-lld (part of the Rust toolchain), lld, mold or GNU ld: ${C_FIX}; or \`sudo apt-get install lld\``;
  if (!driver || !object) return { id: 'patch-linker', title, status: 'fail', detail: 'no working C compiler to run a linker through (see the C toolchain)', fix };
  const gccLdDir = rust.sysroot ? findGccLdDir([], path.join(rust.sysroot, 'bin', 'rustc')) : undefined;
  const candidates = linkerCandidates({ gccLdDir });
  const out = await linkPatch({ driver, candidates, objects: [object], output: path.join(scratch, 'probe.so'), keptArgs: [], cwd: scratch });
  if (out.ok) return { id: 'patch-linker', title, status: 'ok', detail: `${out.linker.kind} through ${driver} (linked a test patch in ${Math.round(out.ms)} ms)` };
  return { id: 'patch-linker', title, status: 'fail', detail: out.message.split('\n').slice(0, 4).join(' / '), fix };
}

export function scratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-doctor-'));
}
