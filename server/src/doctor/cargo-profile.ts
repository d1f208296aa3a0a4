// Does the profile a build uses have debug assertions on? subsecond, subsecond-agent and
// dioxus-devtools all do nothing without them, so an app built without them is never patched.
//
// Cargo's precedence for a profile setting: CARGO_PROFILE_<NAME>_DEBUG_ASSERTIONS, then cargo
// config files (.cargo/config.toml from the workspace up, then $CARGO_HOME/config.toml), then the
// workspace root's Cargo.toml; a custom profile without the setting takes its `inherits` profile's.
// The TOML reading is line-based (section headers and `key = value`), enough for these two keys.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The profile `cargo build <args>` uses. */
export function profileOf(cargoArgs: string[]): string {
  let profile = 'dev';
  for (let i = 0; i < cargoArgs.length; i++) {
    const a = cargoArgs[i];
    if (a === '--release' || a === '-r') profile = 'release';
    else if (a === '--profile' && i + 1 < cargoArgs.length) profile = cargoArgs[++i];
    else if (a.startsWith('--profile=')) profile = a.slice(10);
  }
  return profile;
}

type Sections = Map<string, Map<string, string>>;

/** `[profile.dev]` → `debug-assertions = false`, as raw strings. Exported for tests. */
export function readTomlSections(text: string): Sections {
  const out: Sections = new Map();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[([^\][]+)\]$/.exec(line);
    if (header) {
      const name = header[1].replace(/\s+/g, '').replace(/"/g, '');
      current = out.get(name) ?? new Map();
      out.set(name, current);
      continue;
    }
    if (line.startsWith('[')) {
      current = undefined;
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.+)$/.exec(line);
    if (kv && current) current.set(kv[1], kv[2].trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

export interface ProfileSetting {
  value: boolean;
  /** Where the value came from: a file, an environment variable, or cargo's default. */
  source: string;
}

function readSections(file: string): Sections | undefined {
  try {
    return readTomlSections(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Cargo config files that apply to builds started in `dir`, highest precedence first. */
function configFiles(dir: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  let cur = path.resolve(dir);
  for (;;) {
    for (const name of ['config.toml', 'config']) {
      const f = path.join(cur, '.cargo', name);
      if (fs.existsSync(f)) {
        out.push(f);
        break;
      }
    }
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  const cargoHome = env.CARGO_HOME ?? path.join(os.homedir(), '.cargo');
  for (const name of ['config.toml', 'config']) {
    const f = path.join(cargoHome, name);
    if (fs.existsSync(f) && !out.includes(f)) {
      out.push(f);
      break;
    }
  }
  return out;
}

/** Where cargo reads profile settings, in its order: config files, then the workspace manifest. */
function profileSources(workspaceRoot: string, env: NodeJS.ProcessEnv): Array<{ name: string; sections: Sections }> {
  const sources: Array<{ name: string; sections: Sections }> = [];
  for (const f of configFiles(workspaceRoot, env)) {
    const s = readSections(f);
    if (s) sources.push({ name: f, sections: s });
  }
  const manifest = path.join(workspaceRoot, 'Cargo.toml');
  const m = readSections(manifest);
  if (m) sources.push({ name: manifest, sections: m });
  return sources;
}

/** Whether `profile` has debug assertions for a workspace rooted at `workspaceRoot`. */
export function debugAssertions(profile: string, workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): ProfileSetting {
  const sources = profileSources(workspaceRoot, env);

  const seen = new Set<string>();
  let name = profile;
  for (;;) {
    seen.add(name);
    const envKey = `CARGO_PROFILE_${name.toUpperCase().replace(/-/g, '_')}_DEBUG_ASSERTIONS`;
    if (env[envKey] !== undefined) return { value: env[envKey] === 'true', source: `$${envKey}` };
    let inherits: string | undefined;
    for (const src of sources) {
      const sec = src.sections.get(`profile.${name}`);
      const v = sec?.get('debug-assertions');
      if (v === 'true' || v === 'false') return { value: v === 'true', source: `[profile.${name}] in ${src.name}` };
      inherits ??= sec?.get('inherits');
    }
    if (name === 'dev') return { value: true, source: "cargo's default for dev" };
    if (name === 'release') return { value: false, source: "cargo's default for release" };
    // test and bench inherit dev and release unless told otherwise
    inherits ??= name === 'test' ? 'dev' : name === 'bench' ? 'release' : undefined;
    if (!inherits || seen.has(inherits)) return { value: false, source: `profile ${name} declares no "inherits"` };
    name = inherits;
  }
}

/**
 * A profile key's raw value as cargo would resolve it (env, config files, manifest, `inherits`);
 * unset: `root` is the built-in profile (dev, release) whose default applies.
 */
function profileValue(profile: string, key: string, workspaceRoot: string, env: NodeJS.ProcessEnv): { value?: string; source?: string; root?: string } {
  const sources = profileSources(workspaceRoot, env);
  const seen = new Set<string>();
  let name: string | undefined = profile;
  let root: string | undefined;
  while (name && !seen.has(name)) {
    root = name;
    seen.add(name);
    const envKey = `CARGO_PROFILE_${name.toUpperCase().replace(/-/g, '_')}_${key.toUpperCase().replace(/-/g, '_')}`;
    if (env[envKey] !== undefined) return { value: env[envKey]!, source: `$${envKey}` };
    let inherits: string | undefined;
    for (const src of sources) {
      const sec = src.sections.get(`profile.${name}`);
      const v = sec?.get(key);
      if (v !== undefined) return { value: v, source: `[profile.${name}] in ${src.name}` };
      inherits ??= sec?.get('inherits');
    }
    name = inherits ?? (name === 'test' ? 'dev' : name === 'bench' ? 'release' : undefined);
  }
  return { root };
}

export interface DebugInfoSetting {
  /** Full debuginfo (types included): what the layout gate reads. */
  types: boolean;
  /** `debug` as set, or cargo's default; `split-debuginfo` when it moves the types out of the executable. */
  value: string;
  source: string;
}

/**
 * Whether builds with `profile` put type descriptions in the executable: `debug = 2`/`true`/
 * `"full"` does; `1`/`"limited"`, `"line-tables-only"`, `"line-directives-only"`, `0`/`false`/
 * `"none"` do not (measured: limited debuginfo describes no types), nor split debuginfo
 * (`split-debuginfo = "packed"|"unpacked"`: the types are in `.dwp`/`.dwo` files).
 */
export function debugInfo(profile: string, workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): DebugInfoSetting {
  const set = profileValue(profile, 'debug', workspaceRoot, env);
  const value = set.value ?? (set.root === 'dev' ? 'true' : '0');
  const source = set.source ?? `cargo's default for ${set.root ?? profile}`;
  const full = ['2', 'true', 'full'].includes(value);
  const split = profileValue(profile, 'split-debuginfo', workspaceRoot, env);
  if (full && (split.value === 'packed' || split.value === 'unpacked')) {
    return { types: false, value: `split-debuginfo = "${split.value}"`, source: split.source ?? '' };
  }
  return { types: full, value: `debug = ${value}`, source };
}
