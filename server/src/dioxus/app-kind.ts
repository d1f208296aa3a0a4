// dioxus/app-kind.ts — is the app a Dioxus app, with which renderer, and is it a web build?
// Read from the workspace's Cargo.lock and the cargo arguments / .cargo config: no cargo call,
// no network. Used by the launch (assets), the doctor and startApp (web builds).
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DioxusApp {
  /** The `dioxus` crate's version in the lock file (undefined: only parts of Dioxus are used). */
  version?: string;
  /** The `dioxus-core` crate's version in the lock file (what rsx! templates must match). */
  coreVersion?: string;
  /** dioxus-desktop (webview), dioxus-native (blitz), dioxus-web (wasm in a browser). */
  renderers: Array<'desktop' | 'native' | 'web'>;
  /** manganis is linked: `asset!()` paths resolve at run time (see launch-env.ts). */
  assets: boolean;
  /** subsecond-agent is in the lock file: patches may reach the app through it, not only Dioxus' client. */
  agent?: boolean;
}

/** Package name → versions, from a Cargo.lock text. */
export function lockedPackages(lockText: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /^\[\[package\]\]\s*\nname\s*=\s*"([^"]+)"\s*\nversion\s*=\s*"([^"]+)"/gm;
  for (let m = re.exec(lockText); m; m = re.exec(lockText)) {
    const list = out.get(m[1]) ?? [];
    list.push(m[2]);
    out.set(m[1], list);
  }
  return out;
}

/** What the workspace's lock file says about Dioxus; undefined when dioxus-core is not in it. */
export function dioxusAppOf(workspaceRoot: string): DioxusApp | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(workspaceRoot, 'Cargo.lock'), 'utf8');
  } catch {
    return undefined;
  }
  const pkgs = lockedPackages(text);
  if (!pkgs.has('dioxus-core')) return undefined;
  const renderers: DioxusApp['renderers'] = [];
  if (pkgs.has('dioxus-desktop')) renderers.push('desktop');
  if (pkgs.has('dioxus-native')) renderers.push('native');
  if (pkgs.has('dioxus-web')) renderers.push('web');
  return { version: pkgs.get('dioxus')?.[0], coreVersion: pkgs.get('dioxus-core')?.[0], renderers, assets: pkgs.has('manganis'), ...(pkgs.has('subsecond-agent') ? { agent: true } : {}) };
}

/** `--target <triple>` / `--target=<triple>` among cargo arguments (before a `--`). */
function targetArg(cargoArgs: string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < cargoArgs.length; i++) {
    const a = cargoArgs[i];
    if (a === '--') break;
    if (a === '--target' && i + 1 < cargoArgs.length) found = cargoArgs[++i];
    else if (a.startsWith('--target=')) found = a.slice('--target='.length);
  }
  return found;
}

/** `[build] target = "…"` in the nearest `.cargo/config.toml` (or `config`) from `dir` upwards. */
function configuredTarget(dir: string): string | undefined {
  for (let cur = path.resolve(dir); ; cur = path.dirname(cur)) {
    for (const name of ['config.toml', 'config']) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(cur, '.cargo', name), 'utf8');
      } catch {
        continue;
      }
      const build = /^\s*\[build\]\s*$([\s\S]*?)(?=^\s*\[|(?![\s\S]))/m.exec(text);
      const t = build && /^\s*target\s*=\s*"([^"]+)"/m.exec(build[1]);
      if (t) return t[1];
      const dotted = /^\s*build\.target\s*=\s*"([^"]+)"/m.exec(text);
      if (dotted) return dotted[1];
    }
    if (path.dirname(cur) === cur) return undefined;
  }
}

/**
 * Why this app cannot be hot-patched here because it is a web (wasm) build, or undefined. The
 * engine patches native processes (ELF, a process to attach to); a wasm app in a browser is
 * dx's: `dx serve` hot-reloads its rsx! and hot-patches its wasm.
 */
export function webBuildProblem(workspaceRoot: string, cargoArgs: string[], app = dioxusAppOf(workspaceRoot)): string | undefined {
  const triple = targetArg(cargoArgs) ?? configuredTarget(workspaceRoot);
  if (triple?.startsWith('wasm32-')) {
    return `the build target is ${triple} (a web build): subsecond-lsp hot-patches native processes only. ` +
      `For a Dioxus web app run \`dx serve\` (it hot-reloads rsx! and hot-patches wasm); for a native build drop the wasm target`;
  }
  if (app && app.renderers.includes('web') && !app.renderers.includes('desktop') && !app.renderers.includes('native')) {
    return `this Dioxus app renders only for the web (dioxus-web, no desktop renderer in Cargo.lock): subsecond-lsp ` +
      `hot-patches native processes only. Run \`dx serve\` for the web, or enable dioxus' \`desktop\` feature to patch it here`;
  }
  return undefined;
}
