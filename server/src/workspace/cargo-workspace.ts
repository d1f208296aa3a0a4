// The workspace model: what `cargo metadata` says about the project (members, targets, which
// crate a file belongs to, dependency order between workspace crates).
// It runs `cargo metadata` and nothing else; it never builds, analyses or talks to an editor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../support/process';
import { moduleTreeFiles } from './module-tree';

export interface CrateTarget {
  /** Target name as cargo reports it (may contain `-`). */
  name: string;
  /** The name rustc sees (`--crate-name`): `-` replaced by `_`. */
  crateName: string;
  kind: string[];
  srcPath: string;
}

export interface WorkspacePackage {
  name: string;
  /**
   * What `cargo -p` takes to mean this package and no other: a dependency may share its name
   * (`-p name` is then ambiguous). See packageSpecOf.
   */
  spec: string;
  manifestPath: string;
  /** Directory holding the package's Cargo.toml. */
  rootDir: string;
  targets: CrateTarget[];
  /** Names of the workspace packages this package depends on (normal and build deps). */
  workspaceDeps: string[];
  /** Those of them its build script depends on (`[build-dependencies]`). */
  buildDeps?: string[];
}

export interface BinTarget {
  packageName: string;
  /** The package's unambiguous `-p` spec (WorkspacePackage.spec). */
  packageSpec: string;
  binName: string;
  crateName: string;
}

/**
 * What a file is to the build. `source`: Rust code of a crate (patched by a thin build);
 * `build-script`: a `build.rs` (or a module of it) cargo runs before compiling; `proc-macro`:
 * code of a proc-macro crate, which runs inside rustc; `manifest`, `lockfile`, `cargo-config`,
 * `toolchain`: read by cargo when it plans a build; `other`: none of these (as far as the
 * manifest tells: compile-time inputs such as `include_str!` files are only known from rustc's
 * dep-info, see session/build-inputs.ts).
 */
export type FileKind = 'source' | 'build-script' | 'proc-macro' | 'manifest' | 'lockfile' | 'cargo-config' | 'toolchain' | 'other';

export interface FileOwnership {
  package?: WorkspacePackage;
  /** Targets whose module tree holds the file (or the conservative guess, see `guessed`). */
  targets: CrateTarget[];
  /**
   * No module tree claims the file (a new file, a module declared by a macro or `include!`): the
   * targets are then every lib, bin and proc-macro target of its package, since rebuilding a
   * crate too many is safe and missing one is a silent no-op.
   */
  guessed: boolean;
}

const LIB_KINDS = ['lib', 'rlib', 'dylib', 'cdylib', 'staticlib'];
export const isLibTarget = (t: CrateTarget) => t.kind.some((k) => LIB_KINDS.includes(k));
export const isBinTarget = (t: CrateTarget) => t.kind.includes('bin');
export const isProcMacroTarget = (t: CrateTarget) => t.kind.includes('proc-macro');
export const isBuildScriptTarget = (t: CrateTarget) => t.kind.includes('custom-build');

export type WorkspaceLoad =
  | { ok: true; model: WorkspaceModel }
  | { ok: false; message: string };

export class WorkspaceModel {
  private readonly byName = new Map<string, WorkspacePackage>();

  constructor(
    readonly workspaceRoot: string,
    readonly targetDir: string,
    readonly manifestPath: string,
    readonly packages: WorkspacePackage[],
  ) {
    for (const p of packages) this.byName.set(p.name, p);
  }

  package(name: string): WorkspacePackage | undefined {
    return this.byName.get(name);
  }

  /** The member whose manifest directory is the closest ancestor of `file` (as cargo decides ownership). */
  packageForFile(file: string): WorkspacePackage | undefined {
    const abs = path.resolve(file);
    let best: WorkspacePackage | undefined;
    for (const p of this.packages) {
      const rel = path.relative(p.rootDir, abs);
      if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
      if (rel.split(path.sep)[0] === 'target') continue;
      if (!best || p.rootDir.length > best.rootDir.length) best = p;
    }
    return best;
  }

  /** Which targets of its package a file belongs to, judged from each target's module tree. */
  ownersOfFile(file: string): FileOwnership {
    const abs = path.resolve(file);
    const pkg = this.packageForFile(abs);
    if (!pkg) return { targets: [], guessed: false };
    const claimed = pkg.targets.filter((t) => moduleTreeFiles(t.srcPath).has(abs));
    if (claimed.length > 0) return { package: pkg, targets: claimed, guessed: false };
    const guess = pkg.targets.filter((t) => isLibTarget(t) || isBinTarget(t) || isProcMacroTarget(t));
    return { package: pkg, targets: guess, guessed: true };
  }

  /** The files of a target's module tree (its root first), as far as a scan of `mod` items sees. */
  filesOfTarget(t: CrateTarget): string[] {
    return [...moduleTreeFiles(t.srcPath)];
  }

  /** What `file` is to the build (see FileKind). */
  kindOfFile(file: string): FileKind {
    const abs = path.resolve(file);
    const base = path.basename(abs);
    const dir = path.dirname(abs);
    const roots = [this.workspaceRoot, ...this.packages.map((p) => p.rootDir)];
    if (base === 'Cargo.toml' && (abs === path.resolve(this.manifestPath) || this.packages.some((p) => path.resolve(p.manifestPath) === abs) || dir === this.workspaceRoot)) return 'manifest';
    if (base === 'Cargo.lock' && dir === this.workspaceRoot) return 'lockfile';
    // cargo reads .cargo/config.toml from the directory it runs in and every ancestor
    if ((base === 'config.toml' || base === 'config') && path.basename(dir) === '.cargo' && isAncestorOrSelf(path.dirname(dir), this.workspaceRoot)) return 'cargo-config';
    if ((base === 'rust-toolchain.toml' || base === 'rust-toolchain') && roots.some((r) => isAncestorOrSelf(dir, r))) return 'toolchain';
    if (!abs.endsWith('.rs')) return 'other';
    const pkg = this.packageForFile(abs);
    if (!pkg) return 'other';
    // Only a package with a build script or a proc-macro needs its module trees read.
    if (!pkg.targets.some((t) => isBuildScriptTarget(t) || isProcMacroTarget(t))) return 'source';
    const owners = this.ownersOfFile(abs);
    if (owners.targets.some(isBuildScriptTarget)) return 'build-script';
    if (owners.targets.some(isProcMacroTarget)) return 'proc-macro';
    return 'source';
  }

  /**
   * The workspace lib crates (rustc crate names) a thin build must replay when `file` changed
   * while `bin` runs. The bin itself is always rebuilt, so it is not listed; another bin of the
   * package, a test or an example is not part of the app. A lib and a bin of one package may
   * share a crate name: the name then means the lib (the engine replays its `.lib` record).
   */
  libCratesForFile(file: string, bin: BinTarget): string[] {
    const linked = this.libCratesOfApp(bin);
    const owners = this.ownersOfFile(file);
    return [...new Set(owners.targets.filter(isLibTarget).map((t) => t.crateName))].filter((c) => linked.has(c));
  }

  /** Workspace lib crates linked into `bin`: its package's lib and its workspace dependencies' libs. */
  libCratesOfApp(bin: BinTarget): Set<string> {
    const out = new Set<string>();
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const p = this.byName.get(name);
      if (!p) return;
      for (const t of p.targets) if (isLibTarget(t)) out.add(t.crateName);
      p.workspaceDeps.forEach(visit);
    };
    visit(bin.packageName);
    return out;
  }

  /** Crate name used by rustc for the package's library, or its first target otherwise. */
  /**
   * Workspace packages whose code runs while `root` (an app's package) is built rather than in
   * the app: build-dependencies of its packages' build scripts and dependencies of its proc-macro
   * crates, with their own dependencies. Name → what makes it build-time code.
   */
  buildTimePackages(root: string): Map<string, string> {
    const out = new Map<string, string>();
    const mark = (start: string, why: string) => {
      const stack = [start];
      while (stack.length) {
        const n = stack.pop()!;
        if (out.has(n)) continue;
        out.set(n, why);
        stack.push(...(this.package(n)?.workspaceDeps ?? []));
      }
    };
    const seen = new Set<string>();
    const stack = [root];
    while (stack.length) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const p = this.package(name);
      if (!p) continue;
      for (const b of p.buildDeps ?? []) mark(b, `a build-dependency of \`${p.name}\`'s build script`);
      if (p.targets.some((t) => t.kind.includes('proc-macro'))) {
        for (const d of p.workspaceDeps) mark(d, `a dependency of the proc-macro crate \`${p.name}\``);
      } else stack.push(...p.workspaceDeps);
    }
    return out;
  }

  crateNameOf(pkg: WorkspacePackage): string {
    const lib = pkg.targets.find((t) => t.kind.some((k) => k === 'lib' || k === 'rlib' || k === 'proc-macro'));
    return (lib ?? pkg.targets[0])?.crateName ?? pkg.name.replace(/-/g, '_');
  }

  /** Every bin target of the workspace, in manifest order. */
  bins(): BinTarget[] {
    const out: BinTarget[] = [];
    for (const p of this.packages)
      for (const t of p.targets)
        if (t.kind.includes('bin')) out.push({ packageName: p.name, packageSpec: p.spec, binName: t.name, crateName: t.crateName });
    return out;
  }

  /** Packages ordered so that every package comes after its workspace dependencies. */
  dependencyOrder(): WorkspacePackage[] {
    const done = new Set<string>();
    const order: WorkspacePackage[] = [];
    const visit = (p: WorkspacePackage, stack: Set<string>) => {
      if (done.has(p.name) || stack.has(p.name)) return;
      stack.add(p.name);
      for (const d of p.workspaceDeps) {
        const dep = this.byName.get(d);
        if (dep) visit(dep, stack);
      }
      stack.delete(p.name);
      done.add(p.name);
      order.push(p);
    };
    for (const p of this.packages) visit(p, new Set());
    return order;
  }

  /** Workspace packages that depend on `name`, directly or transitively. */
  dependentsOf(name: string): WorkspacePackage[] {
    const out = new Set<string>();
    const queue = [name];
    while (queue.length) {
      const cur = queue.shift()!;
      for (const p of this.packages)
        if (p.workspaceDeps.includes(cur) && !out.has(p.name)) {
          out.add(p.name);
          queue.push(p.name);
        }
    }
    return this.packages.filter((p) => out.has(p.name));
  }

  /**
   * Crate name → crate names of its workspace dependencies, for every target of every member.
   * With `bin`, the other bins are left out: they are not part of that app, and a thin build must
   * not try to replay them.
   */
  crateGraph(bin?: BinTarget): Record<string, string[]> {
    const graph: Record<string, string[]> = {};
    for (const p of this.packages) {
      const deps = p.workspaceDeps.map((d) => this.byName.get(d)).filter((d): d is WorkspacePackage => !!d);
      const depCrates = deps.map((d) => this.crateNameOf(d));
      const own = this.crateNameOf(p);
      for (const t of p.targets) {
        if (!t.kind.some((k) => ['lib', 'rlib', 'bin', 'proc-macro', 'cdylib', 'staticlib', 'dylib'].includes(k))) continue;
        if (bin && isBinTarget(t) && !(p.name === bin.packageName && t.name === bin.binName)) continue;
        // A bin target depends on its own package's library too.
        const extra = t.kind.includes('bin') && t.crateName !== own && p.targets.some((x) => x.kind.includes('lib')) ? [own] : [];
        graph[t.crateName] = [...new Set([...depCrates, ...extra])];
      }
    }
    return graph;
  }
}

interface RawTarget {
  name: string;
  kind: string[];
  src_path: string;
}
interface RawDependency {
  name: string;
  rename?: string | null;
  path?: string;
  kind?: string | null;
}
interface RawPackage {
  name: string;
  id: string;
  version?: string;
  manifest_path: string;
  targets: RawTarget[];
  dependencies: RawDependency[];
}
interface RawMetadata {
  packages: RawPackage[];
  workspace_members: string[];
  workspace_root: string;
  target_directory: string;
}

/**
 * The package id spec `cargo -p` resolves to exactly this package. Cargo ≥ 1.77 prints ids as
 * specs (`path+file:///dir#name@1.2.3`), unique even when a dependency has the same name and
 * version; older cargo prints `name 1.2.3 (path+file:///dir)`, which `-p` does not take, so we
 * fall back to `name@version` (ambiguous only if name and version both clash).
 */
export function packageSpecOf(p: { name: string; id: string; version?: string }): string {
  if (/^[a-z][a-z0-9+.-]*:\/\/\S*#\S+$/.test(p.id)) return p.id;
  return p.version ? `${p.name}@${p.version}` : p.name;
}

/** Parses `cargo metadata --format-version 1 --no-deps` output into a model. Exported for tests. */
export function parseMetadata(json: string, manifestPath: string): WorkspaceModel {
  const raw = JSON.parse(json) as RawMetadata;
  const members = new Set(raw.workspace_members);
  const memberPkgs = raw.packages.filter((p) => members.has(p.id));
  const dirOf = new Map(memberPkgs.map((p) => [path.dirname(p.manifest_path), p.name]));
  const packages: WorkspacePackage[] = memberPkgs.map((p) => ({
    name: p.name,
    spec: packageSpecOf(p),
    manifestPath: p.manifest_path,
    rootDir: path.dirname(p.manifest_path),
    targets: p.targets.map((t) => ({
      name: t.name,
      crateName: t.name.replace(/-/g, '_'),
      kind: t.kind,
      srcPath: t.src_path,
    })),
    workspaceDeps: [
      ...new Set(
        p.dependencies
          .filter((d) => d.kind !== 'dev' && d.path && dirOf.has(path.resolve(d.path)))
          .map((d) => dirOf.get(path.resolve(d.path!))!),
      ),
    ],
    buildDeps: [
      ...new Set(p.dependencies.filter((d) => d.kind === 'build' && d.path && dirOf.has(path.resolve(d.path))).map((d) => dirOf.get(path.resolve(d.path!))!)),
    ],
  }));
  return new WorkspaceModel(raw.workspace_root, raw.target_directory, manifestPath, packages);
}

function isAncestorOrSelf(dir: string, of: string): boolean {
  const rel = path.relative(dir, of);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Finds the Cargo.toml governing `dir`: the nearest one at or above it. */
export function findManifest(dir: string): string | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    const candidate = path.join(cur, 'Cargo.toml');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(cur);
    if (parent === cur) return undefined;
    cur = parent;
  }
}

/** Runs cargo metadata. Never throws: a missing cargo or a broken manifest becomes a message. */
export async function loadWorkspace(manifestPath: string, cargo = process.env.CARGO ?? 'cargo'): Promise<WorkspaceLoad> {
  if (!fs.existsSync(manifestPath)) return { ok: false, message: `no Cargo.toml at ${manifestPath}` };
  const res = await run(cargo, ['metadata', '--format-version', '1', '--no-deps', '--manifest-path', manifestPath], {
    cwd: path.dirname(manifestPath),
  });
  if (res.spawnError) {
    const missing = (res.spawnError as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      message: missing
        ? `cargo was not found on PATH (${cargo}); install Rust with rustup to enable crate-aware analysis and patching`
        : `could not run cargo: ${res.spawnError.message}`,
    };
  }
  if (res.code !== 0) {
    const detail = res.stderr.trim().split('\n').filter((l) => l.trim()).slice(0, 6).join('\n');
    return { ok: false, message: `cargo metadata failed for ${manifestPath}:\n${detail}` };
  }
  try {
    return { ok: true, model: parseMetadata(res.stdout, manifestPath) };
  } catch (err) {
    return { ok: false, message: `cargo metadata printed output that is not valid JSON: ${(err as Error).message}` };
  }
}

/**
 * The bin target to run: the one named `bin` (in `package` if given), else the only bin, else the
 * only bin of the root package; otherwise a message saying what to choose.
 */
export function selectBin(ws: WorkspaceModel, choice: { package?: string; bin?: string }): BinTarget | string {
  const bins = ws.bins().filter((b) => !choice.package || b.packageName === choice.package);
  if (choice.bin) {
    const b = bins.find((x) => x.binName === choice.bin);
    return b ?? `no bin target named "${choice.bin}" in the workspace (bins: ${bins.map((x) => x.binName).join(', ') || 'none'})`;
  }
  if (bins.length === 1) return bins[0];
  if (bins.length === 0) return 'the workspace has no bin target to run';
  const rootPkg = ws.packages.find((p) => p.manifestPath === ws.manifestPath);
  const inRoot = rootPkg ? bins.filter((b) => b.packageName === rootPkg.name) : [];
  if (inRoot.length === 1) return inRoot[0];
  return `the workspace has several bin targets (${bins.map((b) => b.binName).join(', ')}): set "bin" in the settings or pass --bin`;
}
