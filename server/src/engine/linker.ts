// engine/linker.ts — links the patch shared object and chooses the linker for it.
//
// Order of preference (measured here: rust-lld 29–38 ms, lld 47–56, GNU ld 45–75, mold 68–108):
//   1. rust-lld through rustc's gcc-ld wrapper: `-B<sysroot>/lib/rustlib/<triple>/bin/gcc-ld -fuse-ld=lld`
//      (always present with Rust ≥ 1.90; the directory comes from the fat link's own arguments)
//   2. a system lld (`-fuse-ld=lld`)   3. mold (`-fuse-ld=mold`)   4. GNU ld (`-fuse-ld=bfd`)
// A candidate that cannot run (missing binary, driver rejects the flag) is skipped and the next
// tried; a real link error (undefined hidden symbol, bad object) is reported as is. The first
// candidate that worked is remembered by the caller.
//
// Never imports the LSP library or the devserver.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../support/process';

export type LinkerKind = 'rust-lld' | 'lld' | 'mold' | 'gnu-ld';

export interface LinkerCandidate {
  kind: LinkerKind;
  /** Flags given to the compiler driver to select this linker. */
  flags: string[];
}

export class LinkerError extends Error {}

export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** rustc's gcc-ld directory: from a `-B…/gcc-ld` link argument, else searched in the sysroot. */
export function findGccLdDir(fatLinkArgs: string[], rustcPath?: string): string | undefined {
  for (const a of fatLinkArgs) {
    if (a.startsWith('-B') && a.endsWith('gcc-ld')) {
      const d = a.slice(2);
      if (fs.existsSync(path.join(d, 'ld.lld'))) return d;
    }
  }
  if (rustcPath) {
    const rustlib = path.join(path.dirname(path.dirname(rustcPath)), 'lib', 'rustlib');
    let triples: string[] = [];
    try {
      triples = fs.readdirSync(rustlib);
    } catch {
      return undefined;
    }
    const host = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-unknown-linux-gnu`;
    triples.sort((a, b) => Number(b === host) - Number(a === host));
    for (const t of triples) {
      const d = path.join(rustlib, t, 'bin', 'gcc-ld');
      if (fs.existsSync(path.join(d, 'ld.lld'))) return d;
    }
  }
  return undefined;
}

export function linkerCandidates(opts: { gccLdDir?: string; envPath?: string }): LinkerCandidate[] {
  const out: LinkerCandidate[] = [];
  if (opts.gccLdDir) out.push({ kind: 'rust-lld', flags: [`-B${opts.gccLdDir}`, '-fuse-ld=lld'] });
  if (findOnPath('ld.lld', opts.envPath)) out.push({ kind: 'lld', flags: ['-fuse-ld=lld'] });
  if (findOnPath('mold', opts.envPath)) out.push({ kind: 'mold', flags: ['-fuse-ld=mold'] });
  if (findOnPath('ld.bfd', opts.envPath) || findOnPath('ld', opts.envPath)) out.push({ kind: 'gnu-ld', flags: ['-fuse-ld=bfd'] });
  return out;
}

/** The compiler driver to link with: the one the fat link used if it is runnable, else cc/gcc/clang. */
export function chooseDriver(fatDriver: string | undefined, envPath?: string): string | undefined {
  const tries = [fatDriver, 'cc', 'gcc', 'clang'].filter((x): x is string => !!x);
  for (const d of tries) {
    if (d.includes('/')) {
      if (fs.existsSync(d)) return d;
    } else if (findOnPath(d, envPath)) return d;
  }
  return undefined;
}

/**
 * The arguments of the fat link a patch needs too: target flags (-m…), library search paths
 * (existing ones) and the dynamic -l libraries (static ones are already inside the executable,
 * whose copies the stub binds to).
 */
export function keptLinkArgs(fatLinkArgs: string[]): string[] {
  const out: string[] = [];
  let dynamic = true;
  for (let i = 0; i < fatLinkArgs.length; i++) {
    const a = fatLinkArgs[i];
    if (a === '-Wl,-Bstatic' || a === '-Bstatic') dynamic = false;
    else if (a === '-Wl,-Bdynamic' || a === '-Bdynamic') dynamic = true;
    else if (a === '-L' && i + 1 < fatLinkArgs.length) {
      const d = fatLinkArgs[++i];
      if (fs.existsSync(d)) out.push('-L', d);
    } else if (a.startsWith('-L') && a.length > 2) {
      if (fs.existsSync(a.slice(2))) out.push(a);
    } else if (a.startsWith('-l') && a.length > 2) {
      if (dynamic) out.push(a);
    } else if (/^-m(64|32|abi=|cmodel=|arch=|cpu=)/.test(a)) out.push(a);
  }
  return out;
}

export interface LinkRequest {
  driver: string;
  candidates: LinkerCandidate[];
  objects: string[];
  output: string;
  keptArgs: string[];
  cwd: string;
  signal?: AbortSignal;
  /** Nice value of the link (a speculative build runs in the background). */
  priority?: number;
}

export type LinkOutcome =
  | { ok: true; linker: LinkerCandidate; ms: number; stderr: string; tried: string[] }
  | { ok: false; message: string; stderr: string; tried: string[]; unusable: boolean };

/** Signs that a linker choice cannot run at all (as opposed to a link error in our inputs). */
const UNUSABLE = [
  /cannot find '?ld'?/i,
  /collect2: fatal error: cannot find/i,
  /unrecognized command[- ]line option ['‘]?-fuse-ld/i,
  /invalid linker name/i,
  /error: unable to execute command/i,
  /execvp: No such file or directory/i,
  /ld\.lld: not found|mold: not found/i,
];

export function patchLinkArgs(req: LinkRequest, cand: LinkerCandidate): string[] {
  return [
    '-shared',
    '-nodefaultlibs',
    ...cand.flags,
    '-Wl,--eh-frame-hdr',
    '-Wl,-z,noexecstack',
    // bind everything at dlopen: an unresolvable symbol then fails the load, not a later call
    '-Wl,-z,relro,-z,now',
    // The app exports all its symbols (--export-dynamic), which would interpose on the patch's own
    // functions: a patched function calling another patched function would reach the OLD copy.
    // Bind function references inside the patch; data stays preemptible and so binds to the
    // app's live statics (e.g. a workspace crate's pub static).
    '-Wl,-Bsymbolic-functions',
    // Nothing reads a patch's DWARF (subsecond uses the jump table, the engine .symtab), and the
    // app keeps every patch mapped: without it a patch library is several times smaller on disk.
    // Cost: a backtrace through patched code names functions but not file:line.
    '-Wl,--strip-debug',
    '-o',
    req.output,
    ...req.objects,
    ...req.keptArgs,
  ];
}

export async function linkPatch(req: LinkRequest): Promise<LinkOutcome> {
  const tried: string[] = [];
  if (req.candidates.length === 0) {
    return { ok: false, message: 'no usable linker found (looked for rust-lld in the Rust sysroot, ld.lld, mold and GNU ld)', stderr: '', tried, unusable: true };
  }
  let lastStderr = '';
  for (const cand of req.candidates) {
    tried.push(cand.kind);
    const t0 = performance.now();
    const r = await run(req.driver, patchLinkArgs(req, cand), { cwd: req.cwd, signal: req.signal, priority: req.priority });
    const ms = performance.now() - t0;
    if (r.spawnError) {
      return { ok: false, message: `cannot run the linker driver \`${req.driver}\`: ${r.spawnError.message}`, stderr: '', tried, unusable: true };
    }
    if (req.signal?.aborted) return { ok: false, message: 'cancelled', stderr: r.stderr, tried, unusable: false };
    if (r.code === 0 && fs.existsSync(req.output)) return { ok: true, linker: cand, ms, stderr: r.stderr, tried };
    lastStderr = r.stderr;
    if (UNUSABLE.some((re) => re.test(r.stderr))) continue;
    const hint = explainLinkError(r.stderr);
    return { ok: false, message: `linking the patch with ${cand.kind} failed:\n${trimStderr(r.stderr)}${hint ? `\n${hint}` : ''}`, stderr: r.stderr, tried, unusable: false };
  }
  return {
    ok: false,
    message: `no usable linker: tried ${tried.join(', ')}; last error:\n${trimStderr(lastStderr)}`,
    stderr: lastStderr,
    tried,
    unusable: true,
  };
}

/** Adds what a known link failure means for hot-patching. */
export function explainLinkError(stderr: string): string | undefined {
  if (/R_X86_64_TPOFF32|R_AARCH64_TLSLE/.test(stderr)) {
    return 'hint: a thread_local! that the running app does not have (new in this edit), or one the engine cannot rebind on this target, cannot be hot-patched: restart the app';
  }
  if (/R_X86_64_PC32 cannot be used against|recompile with -fPIC/.test(stderr)) {
    return 'hint: the patch accesses a static directly (optimized code); hot-patching needs opt-level 0 for the patched crates, or restart the app';
  }
  return undefined;
}

function trimStderr(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim());
  return lines.length > 30 ? [...lines.slice(0, 30), `… (${lines.length - 30} more lines)`].join('\n') : lines.join('\n');
}
