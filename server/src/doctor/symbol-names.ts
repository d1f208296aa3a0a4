// Which symbol mangling the app's last fat build used: legacy (`_ZN…`, stable rustc's default),
// v0 (`_R…`, nightly's default since 2025-11-21) or mixed (v0 app crates over a legacy std, as
// `-C symbol-mangling-version=v0` on stable gives). Every name-reading step (the patch proof, the
// detour plan) reads both; an executable without names of the app's crates cannot be verified.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { manglingsOf, ManglingSeen } from '../engine/demangle';
import { FatSymbols } from '../engine/symbols';
import type { AppContext } from './app';
import type { DoctorCheck } from './types';

const LABEL: Record<ManglingSeen, string> = { legacy: 'legacy (`_ZN…`)', v0: 'v0 (`_R…`)', mixed: 'legacy and v0', none: 'none' };

/** Where the session keeps its copy of the fat executable (session/app-lifecycle.ts: `<target>/subsecond-lsp/<bin>/run/<bin>`). */
export function fatExecutableOf(app: AppContext): string {
  return path.join(app.model.targetDir, 'subsecond-lsp', app.bin.binName, 'run', app.bin.binName);
}

export function symbolNamesCheck(app: AppContext): DoctorCheck {
  const id = 'symbol-names';
  const title = 'symbol names';
  const exe = fatExecutableOf(app);
  const shown = path.relative(app.model.workspaceRoot, exe) || exe;
  if (!fs.existsSync(exe)) return { id, title, status: 'skip', detail: 'no fat build yet (the first start builds one); legacy and v0 names are both read' };
  const crates = [...new Set(app.model.packages.flatMap((p) => p.targets.map((t) => t.crateName)))];
  let seen;
  try {
    seen = manglingsOf(FatSymbols.fromFile(exe).functionNames(), crates);
  } catch (err) {
    return { id, title, status: 'warn', detail: `${shown} could not be read: ${(err as Error).message}`, fix: 'start the app again to rebuild it' };
  }
  if (seen.app === 'none') {
    return {
      id, title, status: 'warn',
      detail: `${shown} has no Rust symbol of ${crates.map((c) => `\`${c}\``).join(', ')}: patches cannot be verified`,
      fix: 'keep symbols in the profile used (`strip = false`, the dev profile\'s default) and restart the app',
    };
  }
  const detail =
    seen.all === 'mixed'
      ? `mixed in ${shown}: the app's crates ${LABEL[seen.app]}, other code ${LABEL[seen.app === 'v0' ? 'legacy' : seen.app === 'legacy' ? 'v0' : 'mixed']} (prebuilt std keeps its own); both are read`
      : `${LABEL[seen.all]} in ${shown}`;
  return { id, title, status: 'ok', detail };
}
