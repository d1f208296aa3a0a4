// engine/fat-link.ts — how the fat link differs from what rustc asked for (pure functions; the
// shim process in link-shim-main.ts applies them).
//
//   - Workspace and registry rlibs are wrapped in --whole-archive: with --export-dynamic every
//     global symbol then survives --gc-sections, so a later patch can call workspace code the
//     app never used (otherwise dlopen fails on an undefined symbol).
//   - rlibs of the Rust sysroot (std…) are left alone: big, and their used parts are linked anyway.
//   - rlibs with members that are not Rust objects (bundled native static libraries) are left
//     alone too: forcing a C library whole can pull in objects with unresolvable references.
//   - --export-dynamic: subsecond's runtime finds `main` with dlsym, and a patch's thread-local
//     references bind to the executable's TLS symbols through the dynamic symbol table.
// rustc's own `-B<sysroot>/…/gcc-ld -fuse-ld=lld` pair is kept: Rust ≥ 1.90 links with rust-lld.
//
// Never imports the LSP library or the devserver.
import * as path from 'node:path';

export interface FatLinkPlan {
  finalArgs: string[];
  wholeArchived: string[];
  keptAsIs: string[];
}

const SYSROOT_MARK = `${path.sep}lib${path.sep}rustlib${path.sep}`;

/** An rlib member list is "pure Rust" when it only has rustc objects and metadata. */
export function isPureRustArchive(members: string[]): boolean {
  return members.every((m) => m === 'lib.rmeta' || m.endsWith('.rcgu.o') || m.endsWith('.rmeta'));
}

export function planFatLink(args: string[], listMembers: (rlib: string) => string[] | undefined): FatLinkPlan {
  const finalArgs: string[] = [];
  const wholeArchived: string[] = [];
  const keptAsIs: string[] = [];
  for (const a of args) {
    if (!a.endsWith('.rlib') || a.startsWith('-')) {
      finalArgs.push(a);
      continue;
    }
    const members = a.includes(SYSROOT_MARK) ? undefined : listMembers(a);
    if (members && isPureRustArchive(members)) {
      finalArgs.push('-Wl,--whole-archive', a, '-Wl,--no-whole-archive');
      wholeArchived.push(a);
    } else {
      finalArgs.push(a);
      keptAsIs.push(a);
    }
  }
  if (!finalArgs.includes('-Wl,--export-dynamic') && !finalArgs.includes('-rdynamic')) finalArgs.push('-Wl,--export-dynamic');
  return { finalArgs, wholeArchived, keptAsIs };
}

/**
 * The linker the user configured for this target (cargo passes it as `-C linker=`), ignoring our
 * own shim which cargo rustc adds last. undefined → rustc's default, `cc`.
 */
export function userLinker(rustcArgs: string[], shimPath: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < rustcArgs.length; i++) {
    const a = rustcArgs[i];
    let v: string | undefined;
    if ((a === '-C' || a === '--codegen') && rustcArgs[i + 1]?.startsWith('linker=')) v = rustcArgs[i + 1].slice(7);
    else if (a.startsWith('-Clinker=')) v = a.slice(9);
    if (v !== undefined && v !== shimPath && path.basename(v) !== 'subsecond-link-shim') found = v;
  }
  return found;
}
