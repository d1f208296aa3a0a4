// engine/build-faults.ts — says what happened when a patch build fails for a reason outside the
// user's code, instead of relaying a tool's confusing symptom:
//   - a full disk: rust-lld writes its output through mmap and dies of SIGBUS ("Bus error"),
//     rustc and our own writes say ENOSPC / "No space left on device";
//   - the fat build's artifacts are gone (target/ deleted, `cargo clean`): rustc says "extern
//     location for X does not exist", or the deps directory itself is missing.
// Pure string checks plus a statfs/exists probe; never throws.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Below this much free space, a crashed linker or an I/O error is put down to a full disk. */
const LOW_SPACE_BYTES = 64 * 1024 * 1024;

/** Bytes available to us on the filesystem holding `dir` (or its nearest existing parent). */
export function freeBytes(dir: string): number | undefined {
  let d = path.resolve(dir);
  for (;;) {
    try {
      const st = fs.statfsSync(d);
      return st.bavail * st.bsize;
    } catch {
      const up = path.dirname(d);
      if (up === d) return undefined;
      d = up;
    }
  }
}

const NO_SPACE = /No space left on device|ENOSPC|os error 28|Disk quota exceeded|EDQUOT/i;
const CRASHED_WRITER = /Bus error|SIGBUS|signal 7\b|failed to write|error writing|unable to write|could not write/i;

/**
 * "no space left on …" when `text` (a tool's stderr, an error message) shows a full disk, or a
 * crash that a full disk explains. `outDirs` are where the build was writing; the fullest is named.
 */
export function diskFullMessage(text: string, outDirs: string[], free: (dir: string) => number | undefined = freeBytes): string | undefined {
  let fullest: { dir: string; avail: number | undefined } | undefined;
  for (const dir of outDirs) {
    const avail = free(dir);
    if (!fullest || (avail !== undefined && (fullest.avail === undefined || avail < fullest.avail))) fullest = { dir, avail };
  }
  if (!fullest) return undefined;
  const low = fullest.avail !== undefined && fullest.avail < LOW_SPACE_BYTES;
  if (!NO_SPACE.test(text) && !(CRASHED_WRITER.test(text) && low)) return undefined;
  const left = fullest.avail === undefined ? '' : ` (${(fullest.avail / 1048576).toFixed(1)} MB free)`;
  return `no space left on the disk holding ${fullest.dir}${left}: free some space and save again; the app keeps running its previous code`;
}

/** The missing artifact named by rustc's "extern location for X does not exist: PATH", if any. */
function missingExtern(text: string): string | undefined {
  const m = /extern location for (\S+) does not exist: (\S+)/.exec(text);
  return m ? m[2] : undefined;
}

/**
 * "the fat build's artifacts are gone: restart" when the build failed because files the fat build
 * made were deleted. `depsDirs` are the directories the recorded rustc calls read crates from.
 */
export function artifactsGoneMessage(text: string, depsDirs: string[]): string | undefined {
  const missingDir = depsDirs.find((d) => !fs.existsSync(d));
  const missing = missingDir ?? missingExtern(text);
  if (!missing) return undefined;
  return (
    `the fat build's artifacts are gone (${missing} no longer exists: was target/ deleted or \`cargo clean\` run?): ` +
    'restart the app (subsecond.restartApp) to rebuild; the app keeps running its previous code until then'
  );
}
