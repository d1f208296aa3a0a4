// What a saved file means for the build, beyond a crate's own Rust code:
//   - files a crate reads at compile time (`include_str!`, `include_bytes!`, `include!`, `#[path]`
//     modules: rustc's dep-info lists them) rebuild that crate, like its .rs files;
//   - a proc-macro crate's code (or input) rebuilds that crate and the crates that expand it; the
//     layout gate judges the patch, and where it cannot (`procMacroEditsUngated`) the edit is a
//     restart finding as below;
//   - edits a patch cannot carry become restart findings that block patching: a build script, Cargo.toml,
//     Cargo.lock, .cargo/config.toml, rust-toolchain, a file a build script reads (its
//     `cargo:rerun-if-changed` lines), a workspace library that runs at build time (a build script's
//     build-dependency, a proc-macro's dependency). Comment-only edits of those are not findings.
// It also answers which workspace lib crates a thin build must replay for a set of changed files.
// Plain data in, plain data out: the session publishes the findings and schedules the patches.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceRange } from '../analysis';
import { buildScriptInputsOf, crateInputsOf, FatBuild } from '../engine';
import { BinTarget, FileKind, isBinTarget, isLibTarget, WorkspaceModel } from '../workspace/cargo-workspace';
import { codeFingerprint } from './code-fingerprint';
import { isSourcePathUnder } from '../workspace/source-paths';
import type { Problem } from './observer';

export type BuildInputCode =
  | 'proc-macro-changed'
  | 'build-script-changed'
  | 'manifest-changed'
  | 'lockfile-changed'
  | 'cargo-config-changed'
  | 'toolchain-changed'
  | 'build-script-input-changed'
  | 'build-dependency-changed';

/** A change the engine cannot patch; shaped like an analysis Finding so the session treats both alike. */
export interface BuildInputFinding {
  code: BuildInputCode;
  severity: 'restart';
  file: string;
  range: SourceRange;
  /** What changed: `Cargo.toml`, the proc-macro crate's name, `build.rs of app`… */
  item: string;
  message: string;
}

/** What a change of one file asks for. */
export type BuildInputVerdict =
  /** A crate's code or compile-time input: a thin build carries it. */
  | 'rebuild'
  /** A restart finding now stands for this file (or still does). */
  | 'restart'
  /** Nothing to do: not a build input, or back to what the app was built from. */
  | 'none';

/** The kind of a file, with what only dep-info knows. */
export type BuildInputKind = FileKind | 'compile-time-input' | 'build-script-input' | 'build-dependency';

const RESTART_KINDS: Partial<Record<BuildInputKind, BuildInputCode>> = {
  'proc-macro': 'proc-macro-changed',
  'build-script': 'build-script-changed',
  manifest: 'manifest-changed',
  lockfile: 'lockfile-changed',
  'cargo-config': 'cargo-config-changed',
  toolchain: 'toolchain-changed',
  'build-script-input': 'build-script-input-changed',
  'build-dependency': 'build-dependency-changed',
};

/** A file's content as the live comparison sees it: Rust code without comments, anything else byte for byte. */
export function fingerprintOf(file: string, text: string): string {
  return file.endsWith('.rs') ? codeFingerprint(text) : createHash('sha1').update(text).digest('hex');
}

export class BuildInputs {
  private build: FatBuild | undefined;
  /** Compile-time input (not a tracked source) → the records (`crate.kind`) that read it. */
  private readonly inputOwners = new Map<string, Set<string>>();
  /** Every file a record read (sources included) → records, from dep-info. */
  private readonly depInfoOwners = new Map<string, Set<string>>();
  /** Files build scripts declared they read (`cargo:rerun-if-changed`) → those packages' roots. */
  private readonly scriptInputs = new Map<string, Set<string>>();
  /** Restart-kind files as the running app was built from them (null: absent). */
  private baseline: Map<string, string | null> | undefined;
  private readonly current = new Map<string, BuildInputFinding>();
  /** Our fat build runs: cargo may write Cargo.lock (an app without one gets it now). */
  private ownBuild = false;
  /**
   * Why the layout gate cannot vouch for a proc-macro edit of the running app (its layouts are
   * unverified, or a crate using the macro was not rebuilt): then such edits are restart findings
   * again. Undefined: proc-macro edits are rebuilt and gated.
   */
  private procMacroUngated: string | undefined;

  constructor(
    private readonly workspace: () => WorkspaceModel | undefined,
    private readonly read: (file: string) => string | undefined = readText,
  ) {}

  private get ws(): WorkspaceModel | undefined {
    return this.workspace();
  }

  // ---- what a file is ------------------------------------------------------------------------

  kindOf(file: string): BuildInputKind {
    const abs = path.resolve(file);
    const kind = this.ws?.kindOfFile(abs) ?? 'other';
    // A build script's own files say `rerun-if-changed=build.rs`: they stay build scripts.
    if (this.scriptInputs.has(abs) && kind !== 'build-script') return 'build-script-input';
    if (this.inputOwners.has(abs)) return this.ownersAllProcMacros(this.inputOwners.get(abs)!) ? 'proc-macro' : 'compile-time-input';
    if (kind === 'source') {
      const owners = this.depInfoOwners.get(abs);
      if (owners && this.ownersAllProcMacros(owners)) return 'proc-macro';
      if (this.buildTimeReason(abs) !== undefined) return 'build-dependency';
    }
    return kind;
  }

  /** Why a source file's package runs at build time of the running app, if it does. */
  private buildTimeReason(abs: string): string | undefined {
    const ws = this.ws;
    const pkg = ws?.packageForFile(abs);
    if (!ws || !pkg || !this.build) return undefined;
    return ws.buildTimePackages(this.build.packageName).get(pkg.name);
  }

  private ownersAllProcMacros(owners: Set<string>): boolean {
    return owners.size > 0 && [...owners].every((k) => k.endsWith('.proc-macro'));
  }

  /** Should the file watcher report changes of this file? Cheap for .rs (always yes). */
  isWatched(file: string): boolean {
    if (file.endsWith('.rs')) return true;
    const abs = path.resolve(file);
    if (this.inputOwners.has(abs) || this.scriptInputs.has(abs)) return true;
    return (this.ws?.kindOfFile(abs) ?? 'other') !== 'other';
  }

  /**
   * Files a watcher of the workspace's directories must be told about: compile-time inputs (known
   * only after a build, and perhaps outside the workspace) and cargo configs of ancestor directories.
   */
  filesToWatch(): string[] {
    const candidates = [...this.inputOwners.keys(), ...this.scriptInputs.keys(), ...this.cargoConfigCandidates()];
    return [...new Set(candidates)].filter((f) => fs.existsSync(f));
  }

  /** Compile-time inputs known from dep-info: their content decides, like code, what is live. */
  compileTimeInputs(): string[] {
    return [...this.inputOwners.keys()];
  }

  // ---- the app's build -----------------------------------------------------------------------

  /** As a fat build starts: remember what the app is built from; earlier findings are void. */
  takeBaseline(): void {
    const base = new Map<string, string | null>();
    for (const f of this.restartKindFiles()) base.set(f, this.read(f) ?? null);
    // inputs of proc-macro crates known from the previous build
    for (const [f, owners] of this.inputOwners) if (this.ownersAllProcMacros(owners)) base.set(f, this.read(f) ?? null);
    for (const f of this.scriptInputs.keys()) base.set(f, this.read(f) ?? null);
    this.baseline = base;
    this.current.clear();
    this.ownBuild = true;
    this.procMacroUngated = undefined;
  }

  /**
   * As the fat build ends (built or failed): the lock file cargo left is the baseline, not a
   * change; a lock file our own build wrote must never read as "lockfile-changed".
   */
  ownBuildEnded(): void {
    this.ownBuild = false;
    const lock = this.lockFile();
    if (!this.baseline || !lock) return;
    this.baseline.set(lock, this.read(lock) ?? null);
    if (this.current.has(lock)) this.changed(lock);
  }

  private lockFile(): string | undefined {
    return this.ws ? path.join(this.ws.workspaceRoot, 'Cargo.lock') : undefined;
  }

  /**
   * After a fat build: what each recorded crate read (dep-info). Cargo may have written Cargo.lock
   * during the build, so the lock file's baseline is what cargo left. Returns the compile-time
   * inputs with their fingerprints, which belong to the live state of the app.
   */
  builtFrom(build: FatBuild): Map<string, string> {
    this.build = build;
    this.ownBuild = false;
    this.inputOwners.clear();
    this.depInfoOwners.clear();
    this.scriptInputs.clear();
    this.addDepInfo(crateInputsOf(build.records));
    for (const { file, packageRoot } of buildScriptInputsOf(build)) if (this.isUserFile(file)) add(this.scriptInputs, file, packageRoot);
    if (this.baseline) {
      for (const [f, owners] of this.inputOwners) if (this.ownersAllProcMacros(owners) && !this.baseline.has(f)) this.baseline.set(f, this.read(f) ?? null);
      for (const f of this.scriptInputs.keys()) if (!this.baseline.has(f)) this.baseline.set(f, this.read(f) ?? null);
      // Libraries that run at build time: their files as this build compiled them.
      const ws = this.ws;
      if (ws) {
        for (const name of ws.buildTimePackages(build.packageName).keys()) {
          for (const t of ws.package(name)?.targets ?? []) for (const f of ws.filesOfTarget(t)) if (!this.baseline.has(f)) this.baseline.set(f, this.read(f) ?? null);
        }
      }
      const lock = this.lockFile();
      if (lock) this.baseline.set(lock, this.read(lock) ?? null);
      for (const f of [...this.current.keys()]) this.changed(f);
    }
    const live = new Map<string, string>();
    for (const f of this.compileTimeInputs()) {
      const t = this.read(f);
      if (t !== undefined) live.set(f, fingerprintOf(f, t));
    }
    return live;
  }

  /** After a thin build replayed these crates (`PatchResult.crates`): their dep-info again. */
  rebuilt(crates: string[]): void {
    const build = this.build;
    if (!build) return;
    const recs: Record<string, FatBuild['records'][string]> = {};
    for (const c of crates) {
      for (const kind of ['lib', 'bin']) {
        const key = `${c}.${kind}`;
        if (build.records[key]) recs[key] = build.records[key];
      }
    }
    this.addDepInfo(crateInputsOf(recs));
  }

  private addDepInfo(inputs: Record<string, string[]>): void {
    for (const [key, files] of Object.entries(inputs)) {
      for (const f of files) {
        if (!this.isUserFile(f)) continue;
        add(this.depInfoOwners, f, key);
        if (!this.isTrackedSource(f)) add(this.inputOwners, f, key);
      }
    }
  }

  /** Not build output, not a registry crate, not the toolchain's own sources. */
  private isUserFile(f: string): boolean {
    const sep = path.sep;
    if (this.ws && isSourcePathUnder(this.ws.targetDir, f)) return false;
    return ![`${sep}.cargo${sep}registry${sep}`, `${sep}.cargo${sep}git${sep}`, `${sep}.rustup${sep}`, `${sep}lib${sep}rustlib${sep}`].some((m) => f.includes(m));
  }

  /** A .rs file the session already analyses and fingerprints (inside a package, not in target/). */
  private isTrackedSource(f: string): boolean {
    if (!f.endsWith('.rs') || !this.ws) return false;
    return [this.ws.workspaceRoot, ...this.ws.packages.map((p) => p.rootDir)].some((r) => isSourcePathUnder(r, f));
  }

  // ---- changes -------------------------------------------------------------------------------

  /**
   * A file changed on disk (or an editor saved it): refreshes its restart finding and says what
   * the change asks for. `text` is the saved content when the caller has it.
   */
  changed(file: string, text?: string): BuildInputVerdict {
    const abs = path.resolve(file);
    const kind = this.kindOf(abs);
    const code = RESTART_KINDS[kind];
    if (!code) {
      this.current.delete(abs);
      return kind === 'source' || kind === 'compile-time-input' ? 'rebuild' : 'none';
    }
    if (!this.baseline) return 'none'; // no app built yet: the next fat build reads it anyway
    if (this.ownBuild && kind === 'lockfile') return 'none'; // cargo writing it: the baseline once the build ends
    const now = text ?? this.read(abs) ?? null;
    const was = this.baseline.has(abs) ? this.baseline.get(abs)! : null;
    const diff = firstDifference(abs, kind, was, now);
    if (kind === 'proc-macro' && this.procMacroUngated === undefined) {
      // The layout gate judges what it expands to: the macro and every crate using it are
      // rebuilt, and the patch goes only if their compiled layouts are the running app's.
      this.current.delete(abs);
      return 'rebuild';
    }
    if (diff === undefined) {
      this.current.delete(abs);
      return 'none';
    }
    this.current.set(abs, this.finding(abs, kind, code, now ?? '', diff));
    return 'restart';
  }

  /** Is this file a proc-macro crate's source or compile-time input (its edits are gated patches)? */
  isProcMacroInput(file: string): boolean {
    return this.kindOf(file) === 'proc-macro';
  }

  /**
   * The layout gate could not vouch for a patch of proc-macro edits (`reason`): from now until
   * the next fat build, edits of proc-macro crates are restart findings again, as before the
   * gate. Returns the files that now have one.
   */
  procMacroEditsUngated(files: string[], reason: string): string[] {
    this.procMacroUngated = reason;
    return files.filter((f) => this.changed(f) === 'restart');
  }

  /** Restart findings standing now. */
  findings(): BuildInputFinding[] {
    return [...this.current.values()];
  }

  problemsFor(file: string): Problem[] {
    const f = this.current.get(path.resolve(file));
    if (!f) return [];
    return [{ file: f.file, range: f.range, severity: 'warning', code: f.code, message: f.message, requiresRestart: true }];
  }

  filesWithFindings(): string[] {
    return [...this.current.keys()];
  }

  /**
   * Workspace lib crates (rustc crate names) a thin build must replay for these changed files
   * while `bin` runs; `bin` itself is always rebuilt. From dep-info where it knows the file
   * (exact), else from the module trees (a file no tree claims counts for every lib of its
   * package: an extra rebuild is safe, a missing one is a silent no-op).
   */
  cratesToRebuild(files: string[], bin: BinTarget): string[] {
    const out = new Set<string>();
    for (const f of files) {
      const abs = path.resolve(f);
      const known = this.depInfoOwners.get(abs) ?? this.inputOwners.get(abs);
      for (const key of known ?? []) {
        const dot = key.lastIndexOf('.');
        // a proc-macro crate is replayed before the crates that expand it (engine/thin-build.ts)
        if (key.slice(dot + 1) === 'lib' || key.slice(dot + 1) === 'proc-macro') out.add(key.slice(0, dot));
      }
      if (!known && this.kindOf(abs) === 'proc-macro') {
        const pkg = this.ws?.packageForFile(abs);
        if (pkg) out.add(this.ws!.crateNameOf(pkg));
      }
      if (!this.ws || !abs.endsWith('.rs')) continue;
      if (known && this.ws.ownersOfFile(abs).guessed) continue; // dep-info knows better than a guess
      for (const c of this.ws.libCratesForFile(abs, bin)) out.add(c);
    }
    return [...out];
  }

  /**
   * The files among `files` that are not part of the app `bin` runs: another bin's module tree, a
   * test, an example, a package the app does not link. Unsure counts as part of the app.
   */
  outsideApp(files: string[], bin: BinTarget): string[] {
    const ws = this.ws;
    if (!ws) return [];
    const linked = ws.libCratesOfApp(bin);
    return files.filter((f) => {
      const abs = path.resolve(f);
      // every record is a crate the app's fat build compiled
      if (this.depInfoOwners.has(abs) || this.inputOwners.has(abs)) return false;
      if (!abs.endsWith('.rs')) return false;
      const owners = ws.ownersOfFile(abs);
      if (!owners.package) return false;
      return !owners.targets.some(
        (t) =>
          (isBinTarget(t) && owners.package!.name === bin.packageName && t.name === bin.binName) ||
          (isLibTarget(t) && linked.has(t.crateName)) ||
          ((t.kind.includes('proc-macro') || t.kind.includes('custom-build')) && isLinkedPackage(ws, owners.package!.name, bin)),
      );
    });
  }

  // ---- helpers -------------------------------------------------------------------------------

  private cargoConfigCandidates(): string[] {
    if (!this.ws) return [];
    const out: string[] = [];
    for (let dir = this.ws.workspaceRoot; ; dir = path.dirname(dir)) {
      out.push(path.join(dir, '.cargo', 'config.toml'), path.join(dir, '.cargo', 'config'));
      if (path.dirname(dir) === dir) break;
    }
    return out;
  }

  /** Every file whose change needs a restart, as far as the workspace tells (existing or not). */
  private restartKindFiles(): string[] {
    const ws = this.ws;
    if (!ws) return [];
    const out = new Set<string>([path.resolve(ws.manifestPath), path.join(ws.workspaceRoot, 'Cargo.toml'), path.join(ws.workspaceRoot, 'Cargo.lock')]);
    for (const f of this.cargoConfigCandidates()) out.add(f);
    for (const r of [ws.workspaceRoot, ...ws.packages.map((p) => p.rootDir)]) {
      out.add(path.join(r, 'rust-toolchain.toml'));
      out.add(path.join(r, 'rust-toolchain'));
    }
    for (const p of ws.packages) {
      out.add(path.resolve(p.manifestPath));
      for (const t of p.targets) {
        if (!t.kind.includes('custom-build') && !t.kind.includes('proc-macro')) continue;
        for (const f of ws.filesOfTarget(t)) out.add(f);
      }
    }
    return [...out];
  }

  private finding(file: string, kind: BuildInputKind, code: BuildInputCode, text: string, line: number): BuildInputFinding {
    const lines = text.split('\n');
    const l = Math.min(line, Math.max(0, lines.length - 1));
    const range: SourceRange = { start: { line: l, character: 0 }, end: { line: l, character: (lines[l] ?? '').replace(/\r$/, '').length } };
    const ws = this.ws;
    const pkg = ws?.packageForFile(file);
    const rel = ws ? path.relative(ws.workspaceRoot, file) || path.basename(file) : path.basename(file);
    let item = rel;
    let message: string;
    switch (kind) {
      case 'proc-macro': {
        const crate = pkg ? ws!.crateNameOf(pkg) : path.basename(file);
        item = crate;
        message =
          `\`${crate}\` is a proc-macro crate: its code runs inside rustc, and what it generated is compiled into the app. ` +
          `Its edits are patched only when the compiler verifies the expansion's layouts, and that cannot be done here: ${this.procMacroUngated ?? 'the layout gate did not judge it'}. ` +
          'Requires restart (a full build re-expands its macros).';
        break;
      }
      case 'build-script-input': {
        const owners = [...(this.scriptInputs.get(file) ?? [])].map((root) => ws?.packageForFile(path.join(root, 'Cargo.toml'))?.name ?? path.basename(root));
        const scripts = owners.map((n) => `\`${n}\``).join(', ');
        item = rel;
        message =
          `${rel} is read by the build script of ${scripts || 'a package'} (cargo:rerun-if-changed): what it generated from this ` +
          'file is compiled into the running app and only a full build regenerates it; a patch cannot carry this change. Requires restart.';
        break;
      }
      case 'build-dependency': {
        const crate = pkg ? ws!.crateNameOf(pkg) : path.basename(file);
        item = crate;
        const why = (pkg && this.build ? ws!.buildTimePackages(this.build.packageName).get(pkg.name) : undefined) ?? 'build-time code';
        message =
          `\`${crate}\` is ${why}: its code runs while the app is built, and what it produced is compiled into the running ` +
          'app; a patch cannot carry this change. Requires restart (a full build runs it again).';
        break;
      }
      case 'build-script':
        item = pkg ? `build.rs of ${pkg.name}` : rel;
        message =
          `${rel} is ${pkg ? `\`${pkg.name}\`'s` : 'a'} build script: cargo runs it only in a full build, and what it produced ` +
          '(generated code, cfg flags, linked libraries) is fixed in the running app. Requires restart.';
        break;
      case 'manifest': {
        const section = tomlSectionAt(lines, l);
        const what = !section
          ? 'changed'
          : section === 'features' || section.endsWith('.features')
            ? 'features changed'
            : /dependencies/.test(section)
              ? 'dependencies changed'
              : section.startsWith('profile')
                ? 'build profile changed'
                : `[${section}] changed`;
        message =
          `${rel}: ${what}. Cargo reads the manifest only when it plans a full build, so the running app keeps the ` +
          'dependencies, features and settings it was built with; a patch cannot carry this. Requires restart.';
        break;
      }
      case 'lockfile':
        message = `${rel} changed: the app was built against the dependency versions locked before; a patch cannot swap them. Requires restart.`;
        break;
      case 'cargo-config':
        message = `${rel} changed: cargo's settings (rustflags, target, linker, env) are fixed at the app's full build; patches are built with the old ones. Requires restart.`;
        break;
      default:
        message = `${rel} changed: the app was built with another toolchain, and a patch must be compiled by the same rustc. Requires restart.`;
    }
    return { code, severity: 'restart', file, range, item, message };
  }
}

/** Is package `name` the app's own package or one of its workspace dependencies (transitively)? */
function isLinkedPackage(ws: WorkspaceModel, name: string, bin: BinTarget): boolean {
  const seen = new Set<string>();
  const stack = [bin.packageName];
  while (stack.length) {
    const p = stack.pop()!;
    if (p === name) return true;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...(ws.package(p)?.workspaceDeps ?? []));
  }
  return false;
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  const s = map.get(key);
  if (s) s.add(value);
  else map.set(key, new Set([value]));
}

/**
 * The first line (0-based, in `now`) where the content that matters differs, or undefined when
 * it does not: comments and layout never count in Rust and TOML files.
 */
function firstDifference(file: string, kind: BuildInputKind, was: string | null, now: string | null): number | undefined {
  if (was === now) return undefined;
  if (was === null || now === null) return 0;
  if (file.endsWith('.rs')) {
    if (codeFingerprint(was) === codeFingerprint(now)) return undefined;
    return firstDifferentLine(was.split('\n').map((l) => l.trimEnd()), now.split('\n').map((l) => l.trimEnd()));
  }
  const norm = file.endsWith('.toml') || kind === 'cargo-config' ? tomlLines : plainLines;
  const a = norm(was);
  const b = norm(now);
  if (a.length === b.length && a.every((x, i) => x.text === b[i].text)) return undefined;
  let i = 0;
  while (i < a.length && i < b.length && a[i].text === b[i].text) i++;
  return i < b.length ? b[i].line : b.length ? b[b.length - 1].line : 0;
}

function firstDifferentLine(a: string[], b: string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return Math.min(i, Math.max(0, b.length - 1));
}

interface NormLine {
  line: number;
  text: string;
}

function plainLines(text: string): NormLine[] {
  return text.split('\n').map((t, line) => ({ line, text: t.trim() })).filter((l) => l.text !== '');
}

/** TOML lines without comments (a `#` outside quotes) and blank lines, whitespace trimmed. */
function tomlLines(text: string): NormLine[] {
  const out: NormLine[] = [];
  text.split('\n').forEach((raw, line) => {
    let quote: string | undefined;
    let cut = raw.length;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '#') {
        cut = i;
        break;
      }
    }
    const t = raw.slice(0, cut).replace(/\s+/g, ' ').trim();
    if (t) out.push({ line, text: t });
  });
  return out;
}

/** The `[table]` (or `[[array]]`) header governing line `l`, without brackets. */
function tomlSectionAt(lines: string[], l: number): string | undefined {
  for (let i = l; i >= 0; i--) {
    const m = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?/.exec(lines[i] ?? '');
    if (m) return m[1];
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
