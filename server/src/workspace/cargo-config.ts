// What cargo's configuration says about the target an app is built for and how it is run: the
// target triple (`--target`, CARGO_BUILD_TARGET, `build.target`), its linker and its runner
// (`target.<triple>.linker` / `.runner`, `target.'cfg(…)'.runner`, CARGO_TARGET_<TRIPLE>_*), read
// the way cargo reads them, since `cargo config get` is unstable:
//   precedence  --config on the command line > environment > .cargo/config[.toml] from the
//               working directory up to / (nearer wins) > $CARGO_HOME/config[.toml]
//   a program   with a `/` in it is relative to the directory holding the `.cargo` folder of
//               the file that named it (the working directory for the command line and the
//               environment); a bare name is looked up on PATH when it is run
// Not read: `[env]`, `include`, `target-applies-to-host`, `.json` target specs, and arrays merged
// across files (cargo concatenates them; here the nearest file's value is taken whole).
// It never runs cargo and never writes anything; a broken file is a problem, not an exception.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../support/process';

// smol-toml ships CommonJS too (its `require` export); its types are declared as ESM only.
const { parse: parseToml } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

export interface ConfiguredProgram {
  /** The program and its arguments, as they will be run. */
  command: string[];
  /** Where it was configured: a file, an environment variable or `--config`. */
  from: string;
}

export interface CargoTargetConfig {
  /** The triple cargo builds for; undefined: the host (no --target, no build.target). */
  target?: string;
  targetFrom?: string;
  /** `target.<triple>.linker` (for `target` or, without one, the host triple given). */
  linker?: ConfiguredProgram;
  /** How `cargo run` starts the binary: `target.<triple>.runner` or a matching cfg table's. */
  runner?: ConfiguredProgram;
  /** `target.'cfg(…)'.runner` tables whose condition could not be decided (no cfg list given). */
  undecidedCfgRunners: string[];
  /** The config files read, in precedence order (highest first). */
  files: string[];
  /** Unreadable files, TOML errors, unsupported values: said to the user, never thrown. */
  problems: string[];
}

interface Layer {
  from: string;
  /** Base for relative program paths. */
  baseDir: string;
  table: Record<string, unknown>;
}

export interface CargoConfigOptions {
  /** The directory cargo runs in (its config search starts here). */
  cwd: string;
  /** The user's extra cargo arguments (`cargoArgs`): `--target`, `--config`. */
  cargoArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** The host triple (rustc -vV), for the host's own `target.<host>.runner`. */
  hostTriple?: string;
  /** `rustc --print cfg --target <triple>` lines, to decide `target.'cfg(…)'` tables. */
  targetCfg?: string[];
}

/** The config files cargo reads from `cwd`, highest precedence first. */
export function cargoConfigFiles(cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const pick = (dir: string) => {
    // cargo prefers the file without extension when both exist
    for (const name of ['config', 'config.toml']) {
      const f = path.join(dir, name);
      if (isFile(f)) {
        const real = safeRealpath(f);
        if (!seen.has(real)) {
          seen.add(real);
          out.push(f);
        }
        return;
      }
    }
  };
  let dir = path.resolve(cwd);
  for (;;) {
    pick(path.join(dir, '.cargo'));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  pick(env.CARGO_HOME ? path.resolve(env.CARGO_HOME) : path.join(os.homedir(), '.cargo'));
  return out;
}

/** CARGO_TARGET_<TRIPLE>_<KEY>: the triple upper-cased, `-` and `.` as `_`. */
export function targetEnvName(triple: string, key: 'LINKER' | 'RUNNER'): string {
  return `CARGO_TARGET_${triple.toUpperCase().replace(/[-.]/g, '_')}_${key}`;
}

export function readCargoTargetConfig(opts: CargoConfigOptions): CargoTargetConfig {
  const env = opts.env ?? process.env;
  const args = cliArgs(opts.cargoArgs ?? []);
  const result: CargoTargetConfig = { undecidedCfgRunners: [], files: [], problems: [] };
  const layers: Layer[] = [];
  for (const c of args.configs) {
    const asFile = path.resolve(opts.cwd, c);
    if (!c.includes('=') && /\.toml$/.test(c)) {
      const t = loadToml(asFile, result.problems);
      if (t) layers.push({ from: `--config ${c}`, baseDir: path.dirname(asFile), table: t });
      continue;
    }
    try {
      layers.push({ from: `--config ${c}`, baseDir: opts.cwd, table: parseToml(c) as Record<string, unknown> });
    } catch (e) {
      result.problems.push(`--config ${c}: not a TOML key=value (${firstLine(e)})`);
    }
  }
  const cliLayers = layers.length;
  for (const f of cargoConfigFiles(opts.cwd, env)) {
    result.files.push(f);
    const t = loadToml(f, result.problems);
    // the directory holding `.cargo`
    if (t) layers.push({ from: f, baseDir: path.dirname(path.dirname(f)), table: t });
  }

  // The target: --target > CARGO_BUILD_TARGET > build.target (a --config build.target ranks first)
  const cliBuildTarget = firstValue(layers.slice(0, cliLayers), ['build', 'target']);
  const fileBuildTarget = firstValue(layers.slice(cliLayers), ['build', 'target']);
  const targets: Array<{ value: unknown; from: string }> = [];
  if (args.targets.length) targets.push({ value: args.targets.length === 1 ? args.targets[0] : args.targets, from: 'cargoArgs --target' });
  if (cliBuildTarget) targets.push({ value: cliBuildTarget.value, from: `build.target in ${cliBuildTarget.from}` });
  if (env.CARGO_BUILD_TARGET) targets.push({ value: env.CARGO_BUILD_TARGET, from: 'CARGO_BUILD_TARGET' });
  if (fileBuildTarget) targets.push({ value: fileBuildTarget.value, from: `build.target in ${fileBuildTarget.from}` });
  const chosen = targets[0];
  if (chosen) {
    let v = chosen.value;
    if (Array.isArray(v) && v.length === 1) v = v[0];
    if (typeof v !== 'string') {
      result.problems.push(`${chosen.from}: several targets at once cannot be run and hot-patched as one app; give one --target`);
    } else if (v.endsWith('.json')) {
      result.problems.push(`${chosen.from}: a custom target spec (${v}) is not supported; use a built-in target triple`);
    } else {
      result.target = v;
      result.targetFrom = chosen.from;
    }
  }

  const triple = result.target ?? opts.hostTriple;
  if (!triple) return result;
  const cliL = layers.slice(0, cliLayers);
  const fileL = layers.slice(cliLayers);
  const fromEnv = (key: 'LINKER' | 'RUNNER'): Layer | undefined => {
    const name = targetEnvName(triple, key);
    const v = env[name];
    if (!v) return undefined;
    return { from: name, baseDir: opts.cwd, table: { target: { [triple]: { [key.toLowerCase()]: v } } } };
  };
  const ordered = (key: 'LINKER' | 'RUNNER'): Layer[] => [...cliL, ...[fromEnv(key)].filter((l): l is Layer => !!l), ...fileL];

  const linker = firstValue(ordered('LINKER'), ['target', triple, 'linker']);
  if (linker) {
    const command = programOf(linker.value, linker.layer, result.problems, `target.${triple}.linker`);
    if (command && command.length === 1) result.linker = { command, from: linker.from };
    else if (command) result.problems.push(`target.${triple}.linker in ${linker.from}: a linker is one program, without arguments`);
  }

  const runner = firstValue(ordered('RUNNER'), ['target', triple, 'runner']);
  if (runner) {
    const command = programOf(runner.value, runner.layer, result.problems, `target.${triple}.runner`);
    if (command) result.runner = { command, from: runner.from };
  } else {
    // target.'cfg(…)'.runner: cargo takes the one matching table (two matching is an error)
    const matches: Array<{ expr: string; layer: Layer; value: unknown }> = [];
    for (const layer of [...cliL, ...fileL]) {
      const targetTable = asTable(layer.table.target);
      if (!targetTable) continue;
      for (const [key, t] of Object.entries(targetTable)) {
        const m = /^cfg\((.*)\)$/s.exec(key);
        const value = asTable(t)?.runner;
        if (!m || value === undefined) continue;
        if (!opts.targetCfg) {
          result.undecidedCfgRunners.push(`${key} in ${layer.from}`);
          continue;
        }
        let hit: boolean;
        try {
          hit = evalCfg(m[1], opts.targetCfg);
        } catch (e) {
          result.problems.push(`target.'${key}' in ${layer.from}: ${(e as Error).message}`);
          continue;
        }
        if (hit && !matches.some((x) => x.expr === key)) matches.push({ expr: key, layer, value });
      }
    }
    if (matches.length > 1) {
      result.problems.push(`several target.'cfg(…)'.runner tables match ${triple} (${matches.map((m) => m.expr).join(', ')}); cargo refuses that too`);
    } else if (matches.length === 1) {
      const m = matches[0];
      const command = programOf(m.value, m.layer, result.problems, `target.'${m.expr}'.runner`);
      if (command) result.runner = { command, from: `target.'${m.expr}' in ${m.layer.from}` };
    }
  }
  return result;
}

/** The `--target` and `--config` values among the user's cargo arguments (before any `--`). */
function cliArgs(cargoArgs: string[]): { targets: string[]; configs: string[] } {
  const targets: string[] = [];
  const configs: string[] = [];
  for (let i = 0; i < cargoArgs.length; i++) {
    const a = cargoArgs[i];
    if (a === '--') break;
    if (a === '--target' && i + 1 < cargoArgs.length) targets.push(cargoArgs[++i]);
    else if (a.startsWith('--target=')) targets.push(a.slice(9));
    else if (a === '--config' && i + 1 < cargoArgs.length) configs.push(cargoArgs[++i]);
    else if (a.startsWith('--config=')) configs.push(a.slice(9));
  }
  return { targets, configs };
}

function firstValue(layers: Layer[], keys: string[]): { value: unknown; from: string; layer: Layer } | undefined {
  for (const layer of layers) {
    let v: unknown = layer.table;
    for (const k of keys) v = asTable(v)?.[k];
    if (v !== undefined) return { value: v, from: layer.from, layer };
  }
  return undefined;
}

/** A program setting: a string (split on whitespace, as cargo does) or an array of strings. */
function programOf(value: unknown, layer: Layer, problems: string[], key: string): string[] | undefined {
  let parts: string[];
  if (typeof value === 'string') parts = value.split(/\s+/).filter(Boolean);
  else if (Array.isArray(value) && value.every((x) => typeof x === 'string')) parts = value as string[];
  else {
    problems.push(`${key} in ${layer.from}: expected a string or an array of strings`);
    return undefined;
  }
  if (parts.length === 0) {
    problems.push(`${key} in ${layer.from}: empty`);
    return undefined;
  }
  const [program, ...rest] = parts;
  const resolved = program.includes('/') && !path.isAbsolute(program) ? path.resolve(layer.baseDir, program) : program;
  return [resolved, ...rest];
}

function loadToml(file: string, problems: string[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    problems.push(`cannot read ${file}: ${(e as Error).message}`);
    return undefined;
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    problems.push(`${file} is not valid TOML: ${firstLine(e)}`);
    return undefined;
  }
}

function asTable(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function isFile(f: string): boolean {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

function safeRealpath(f: string): string {
  try {
    return fs.realpathSync(f);
  } catch {
    return f;
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/**
 * Decides a cfg expression (`all(…)`, `any(…)`, `not(…)`, `name`, `name = "value"`) against
 * `rustc --print cfg` lines (`unix`, `target_arch="aarch64"`). Throws on a malformed expression.
 */
export function evalCfg(expr: string, cfgLines: string[]): boolean {
  const set = new Set(cfgLines.map((l) => l.trim().replace(/\s*=\s*/, '=')).filter(Boolean));
  const tokens = expr.match(/"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[(),=]/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Error(`malformed cfg expression \`${expr}\``);
    return t;
  };
  const list = (): boolean[] => {
    take('(');
    const out: boolean[] = [];
    while (peek() !== ')') {
      out.push(pred());
      if (peek() === ',') take(',');
      else if (peek() !== ')') throw new Error(`malformed cfg expression \`${expr}\``);
    }
    take(')');
    return out;
  };
  const pred = (): boolean => {
    const name = take();
    if (!/^[A-Za-z_]/.test(name)) throw new Error(`malformed cfg expression \`${expr}\``);
    if (peek() === '(' && (name === 'all' || name === 'any' || name === 'not')) {
      const xs = list();
      if (name === 'all') return xs.every(Boolean);
      if (name === 'any') return xs.some(Boolean);
      if (xs.length !== 1) throw new Error(`not() takes one predicate in \`${expr}\``);
      return !xs[0];
    }
    if (peek() === '=') {
      take('=');
      const v = take();
      if (!v.startsWith('"')) throw new Error(`malformed cfg expression \`${expr}\``);
      return set.has(`${name}=${v}`);
    }
    return set.has(name);
  };
  const v = pred();
  if (i !== tokens.length) throw new Error(`malformed cfg expression \`${expr}\``);
  return v;
}

let hostTripleCache: Promise<string | undefined> | undefined;

/** rustc's host triple (`rustc -vV`), asked once per process. */
export function hostTriple(cwd: string): Promise<string | undefined> {
  hostTripleCache ??= run('rustc', ['-vV'], { cwd }).then((r) => (r.code === 0 ? /^host:\s*(\S+)/m.exec(r.stdout)?.[1] : undefined));
  return hostTripleCache;
}

/**
 * The target configuration as `cargo run` would use it from `cwd`: with the host triple (for
 * the host's own runner) and, when a `target.'cfg(…)'` runner table is there, the target's cfg
 * list from rustc to decide it.
 */
export async function resolveCargoTarget(cwd: string, cargoArgs: string[], env: NodeJS.ProcessEnv = process.env): Promise<CargoTargetConfig & { hostTriple?: string }> {
  const host = await hostTriple(cwd);
  let config = readCargoTargetConfig({ cwd, cargoArgs, env, hostTriple: host });
  if (!config.runner && config.undecidedCfgRunners.length > 0) {
    const triple = config.target ?? host;
    const cfg = await run('rustc', ['--print', 'cfg', ...(triple ? ['--target', triple] : [])], { cwd });
    if (cfg.code === 0) config = readCargoTargetConfig({ cwd, cargoArgs, env, hostTriple: host, targetCfg: cfg.stdout.split('\n') });
    else config.problems.push(`cannot decide target.'cfg(…)' runners: rustc --print cfg failed: ${cfg.stderr.trim().split('\n')[0]}`);
  }
  return { ...config, hostTriple: host };
}

/** The machine's architecture as ELF and target triples name it (`x86_64`, `aarch64`). */
export function hostArch(): string {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
}

/** `aarch64-unknown-linux-gnu` → `aarch64`: the ELF architecture a triple builds for. */
export function archOfTriple(triple: string): string {
  return triple.split('-')[0];
}
