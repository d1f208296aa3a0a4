// dioxus/versions.ts — which Dioxus versions subsecond-lsp hot-patches, from the lock file.
//
// Patching a Dioxus app goes through Dioxus' own devtools client (dioxus-devtools), which applies
// the jump table it is sent and never answers. So a version whose client ignores or misreads the
// message would let "⚡ patched" be said of a patch that never applied: the version is checked
// before the start and in the doctor, and said plainly.
// - before 0.7: no subsecond in Dioxus; the 0.6 client hot-reloads rsx! templates only and ignores
//   a jump table. Not patchable here: refused (unless subsecond-agent is in the lock file too: then
//   the agent's hot entries are the way in, and the agent answers).
// - 0.7: the version this was built against (fixture: 0.7.10).
// - 0.8.0-alpha.3: tried with a desktop app built outside the repository (not a fixture): its
//   devtools messages (dioxus-devtools-types) and subsecond's jump table are the same as 0.7.10's,
//   the client connects and applies patches; a helper's change, static rsx! text, the root's and a
//   child component's body showed in the window, an `asset!()` stylesheet applied and reloaded,
//   hook state and a global signal kept, and a hook put before App's count took the count's value
//   while the count started again, as component-hooks-changed says. It needed the engine to leave 0.8's rsx! template cache (`__RUNTIME_TEMPLATE`) to the
//   patch (template-cache.ts). What differs: the rsx! template inside a HotReload message
//   (dioxus-core `HotReloadedTemplate`: 0.7's `roots` became an encoded `template` in 0.8), so a
//   0.7-shaped template update fails to deserialize in a 0.8 client, which drops the whole message
//   (a jump table sent with no templates is unaffected).
// - any other 0.8 pre-release or later: not tried; the start goes on with a warning saying so.
import type { DioxusApp } from './app-kind';

export const TESTED_DIOXUS = ['0.7.10', '0.8.0-alpha.3'] as const;

export interface DioxusVersionVerdict {
  /** tested: this version (or its 0.7 series) was tried; untested: patches are sent, not known to show; unsupported: refused. */
  level: 'tested' | 'untested' | 'unsupported';
  version: string;
  message: string;
}

function parse(v: string): { major: number; minor: number; patch: number; pre: string } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?/.exec(v);
  return m ? { major: +m[1], minor: +m[2], patch: +m[3], pre: m[4] ?? '' } : undefined;
}

/** What subsecond-lsp can say about patching this Dioxus version; undefined when the lock file names none. */
export function dioxusVersionVerdict(app: DioxusApp): DioxusVersionVerdict | undefined {
  const version = app.version ?? app.coreVersion;
  if (!version) return undefined;
  const v = parse(version);
  const tested = `tested with Dioxus ${TESTED_DIOXUS.join(' and ')}`;
  if (!v) return { level: 'untested', version, message: `Dioxus ${version}: a version this server cannot read (${tested}); patches are sent to its devtools client, which does not report back` };
  if (v.major === 0 && v.minor < 7 && !app.agent) {
    return {
      level: 'unsupported',
      version,
      message:
        `Dioxus ${version} cannot be hot-patched: hot-patching (subsecond) came with Dioxus 0.7, and the ${version} devtools client ` +
        `only hot-reloads rsx! templates (it ignores a patch). Upgrade to Dioxus 0.7 (\`dioxus = "0.7"\`), or use \`dx serve\` for rsx! hot-reload`,
    };
  }
  if (v.major === 0 && v.minor === 7) {
    return { level: 'tested', version, message: `Dioxus ${version}: supported (the 0.7 series; ${tested})` };
  }
  if (version === '0.8.0-alpha.3') {
    return {
      level: 'tested',
      version,
      message:
        `Dioxus ${version} (a pre-release): patches tested with a desktop app (functions, components, static rsx! text, stylesheet reloads, hook changes; hook state and global signals kept); ` +
        `rsx! template updates in 0.7's shape are not understood by its client (0.8 changed the template format)`,
    };
  }
  return {
    level: 'untested',
    version,
    message:
      `Dioxus ${version} is not tested (${tested}): patches are sent to its devtools client, which does not report back, ` +
      `so a "⚡ patched" change may not show; if the window keeps the old code, restart the app and report the version`,
  };
}
