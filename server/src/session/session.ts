// The session: one workspace, its patchability analysis, and the app it runs and patches. It
// wires the parts together and routes file events; each part can be read and tested alone:
// - source-files.ts: which files are sources, reading them, fingerprints of the disk;
// - problem-board.ts: problems and findings, what blocks a patch;
// - status-board.ts: the status line and patch counters;
// - app-lifecycle.ts: fat build, launch, connect, stop, restart, exits;
// - patch-scheduler.ts: when to patch (coalescing, changes no event announced);
// - patch-pipeline.ts: one patch attempt, from the disk's state to the agent's answer;
// - unsaved-text.ts (editor-buffers.ts, speculation.ts): the buffers between saves, their verdict
//   and the patch built before the save (or, with `patchOn: "pause"`, live edits).
// It reports through a SessionObserver as plain data and never imports the LSP library, so the
// editor front end and the terminal mode drive the very same code.
import * as path from 'node:path';
import { PatchabilityAnalyzer, Finding } from '../analysis';
import { WorkspaceModel, loadWorkspace, findManifest } from '../workspace/cargo-workspace';
import { archOfTriple, hostArch, readCargoTargetConfig } from '../workspace/cargo-config';
import { RustFileWatcher } from './file-watcher';
import { AppLifecycle, CommandResult, RunningApp } from './app-lifecycle';
import { locateInPackage, ChangedFunctionRef } from './patch-proof';
import { LiveFunctions } from './live-functions';
import { BuildInputs, BuildInputFinding } from './build-inputs';
import { isSourcePathUnder } from '../workspace/source-paths';
import { PatchScheduler } from './patch-scheduler';
import { PatchPipeline } from './patch-pipeline';
import { ProblemBoard, coveredByDetours } from './problem-board';
import { SourceFiles } from './source-files';
import { StatusBoard } from './status-board';
import type { Settings } from './settings';
import { Speculator } from './speculation';
import { RsxHotReload } from './rsx-hot-reload';
import { UnsavedText } from './unsaved-text';
import { CompiledLayouts } from './compiled-layouts';
import { SourceLayoutCheck } from './source-layout-check';
import { DioxusAssets } from './dioxus-assets';
import { StateMigration } from './state-migration';
import type { FunctionStatus, Problem, SessionObserver, SessionStatus } from './observer';

export type { CommandResult };

export class Session {
  private analyzer!: PatchabilityAnalyzer;
  private problems!: ProblemBoard;
  private compiledLayouts!: CompiledLayouts;
  /** The compiler's layouts of the types a blocked save's source findings name. */
  private sourceLayoutCheck!: SourceLayoutCheck;
  private stateMigration!: StateMigration;
  private lifecycle!: AppLifecycle;
  private pipeline!: PatchPipeline;
  private scheduler!: PatchScheduler;
  private speculator!: Speculator;
  private rsx!: RsxHotReload;
  /** The editor's buffers between saves: judged when typing pauses, built ahead or patched live. */
  private unsaved!: UnsavedText;
  /** A Dioxus app's `asset!()` files: an edited stylesheet reloads in the window, no build. */
  private dioxusAssets!: DioxusAssets;
  private readonly files: SourceFiles;
  private readonly statusBoard: StatusBoard;
  private workspace: WorkspaceModel | undefined;
  private workspaceProblem: string | undefined;
  private readonly openedOutside = new Set<string>();
  private watcher: RustFileWatcher | undefined;
  /** Manifests, build scripts, proc-macros, files read at compile time: what a save of them means. */
  private readonly buildInputs = new BuildInputs(() => this.workspace);
  /** Analysis time of the last save (reported with the patch it triggered). */
  private lastAnalysisMs = 0;
  private disposed = false;
  private readonly liveFunctions = new LiveFunctions();

  private constructor(
    readonly rootDir: string,
    private settings: Settings,
    private readonly observer: SessionObserver,
  ) {
    this.files = new SourceFiles(rootDir, () => this.workspace, () => this.settings, observer, () => this.buildInputs.compileTimeInputs());
    this.statusBoard = new StatusBoard(observer, () => ({
      pid: this.lifecycle?.app?.pid,
      bin: this.lifecycle?.app?.bin.binName,
      blockingFindings: this.problems ? this.problems.restartFindings().length + this.problems.compiledLayoutFindings().length : 0,
      appLog: this.lifecycle?.logPath,
    }));
  }

  static async create(rootDir: string, settings: Settings, observer: SessionObserver): Promise<Session> {
    const s = new Session(path.resolve(rootDir), settings, observer);
    await s.init();
    return s;
  }

  /** The architecture the app is built for, as cargo's config and `cargoArgs` say at start. */
  private targetArch(): string {
    const cwd = this.workspace?.workspaceRoot ?? this.rootDir;
    const target = readCargoTargetConfig({ cwd, cargoArgs: this.settings.cargoArgs }).target;
    return target ? archOfTriple(target) : hostArch();
  }

  private async init(): Promise<void> {
    await this.reloadWorkspace();
    this.analyzer = await PatchabilityAnalyzer.create({
      crateOf: (file) => this.workspace?.packageForFile(file)?.name,
      // The engine rebinds thread-locals to the app's storage on x86_64 and aarch64
      // (engine/fixups.ts); the app's architecture is the target's (--target, build.target), not
      // the machine's.
      threadLocalPolicy: ['x86_64', 'aarch64'].includes(this.targetArch()) ? 'keep' : 'reset',
    });
    const watchBuildInputs = () => this.watcher?.watchFiles(this.buildInputs.filesToWatch());
    this.problems = new ProblemBoard(
      this.analyzer,
      this.observer,
      () => this.statusBoard.emit(),
      this.buildInputs,
      () => this.settings.detours && this.lifecycle?.app?.detours === true,
      (file) => this.files.hasOverlay(file),
      () => this.lifecycle?.app,
      (f) => this.stateMigration.rewrite(f),
      (f) => this.sourceLayoutCheck.amend(f),
    );
    this.compiledLayouts = new CompiledLayouts(this.analyzer, () => this.workspace);
    this.stateMigration = new StateMigration({
      app: () => this.lifecycle?.app,
      registered: (app) => this.lifecycle.devServer?.appForPid(app.pid)?.hotStateTypes ?? [],
      sources: () => this.files.list().flatMap((f): Array<[string, string]> => {
        const text = this.files.currentText(f);
        return text === undefined ? [] : [[f, text]];
      }),
      cratesOf: (file) => {
        try {
          return this.workspace?.ownersOfFile(file).targets.map((t) => t.crateName) ?? [];
        } catch {
          return [];
        }
      },
      log: (message) => this.observer.log('info', message),
    });
    this.lifecycle = new AppLifecycle({
      settings: () => this.settings,
      workspace: () => this.workspace,
      reloadWorkspace: async () => {
        await this.reloadWorkspace();
        return this.workspaceProblem;
      },
      files: this.files,
      analyzer: this.analyzer,
      problems: this.problems,
      status: this.statusBoard,
      observer: this.observer,
      buildInputs: this.buildInputs,
      watchBuildInputs,
      // Saves made while the app was building or starting were not patched: catch up now, so
      // nothing saved is lost (a file cargo already compiled just yields a redundant patch).
      connected: (app) => {
        this.compiledLayouts.warm(app); // the executable's layouts, before the first patch
        if (this.settings.autoPatch && this.diskDiffersFromLive()) this.scheduler.schedule(Date.now());
        this.dioxusAssets.appConnected(app);
        this.rsx.appConnected(app);
      },
    });
    this.dioxusAssets = new DioxusAssets({
      lifecycle: this.lifecycle,
      workspace: () => this.workspace,
      files: this.files,
      status: this.statusBoard,
      observer: this.observer,
    });
    this.sourceLayoutCheck = new SourceLayoutCheck({
      lifecycle: this.lifecycle,
      files: this.files,
      analyzer: this.analyzer,
      buildInputs: this.buildInputs,
      layouts: this.compiledLayouts,
      observer: this.observer,
      publish: () => this.problems.publish(),
      showCompiled: (app, findings, files) => this.problems.setCompiledLayouts(app, findings, files),
    });
    const rsx = (this.rsx = new RsxHotReload({
      lifecycle: this.lifecycle,
      files: this.files,
      status: this.statusBoard,
      observer: this.observer,
      workspace: () => this.workspace,
    }));
    this.speculator = new Speculator({
      lifecycle: this.lifecycle,
      files: this.files,
      analyzer: this.analyzer,
      problems: this.problems,
      buildInputs: this.buildInputs,
      observer: this.observer,
      settings: () => this.settings,
      beforeBuild: () => this.sourceLayoutCheck.cancel(),
      templateOnly: (app, buffers, changed) => rsx.templateOnly(app, buffers, changed),
    });
    this.pipeline = new PatchPipeline({
      lifecycle: this.lifecycle,
      files: this.files,
      problems: this.problems,
      status: this.statusBoard,
      observer: this.observer,
      settings: () => this.settings,
      workspace: () => this.workspace,
      judgeUnannounced: (file, text) => {
        if (this.files.isTracked(file)) return this.judge(file, text);
        this.buildInputs.changed(file, text); // a data file a crate reads: never Rust to analyse
        this.problems.publish();
      },
      buildInputs: this.buildInputs,
      watchBuildInputs,
      lastAnalysisMs: () => this.lastAnalysisMs,
      changedFunctions: (app) => this.changedFunctions(app),
      liveFunctions: this.liveFunctions,
      unreachableNotes: (files, detoured) =>
        files.flatMap((f) =>
          this.analyzer
            .findingsFor(f)
            .filter((x) => x.code === 'patched-code-unreachable' && !(detoured && coveredByDetours(x)))
            .map((x) => `\`${x.item}\``),
        ),
      takeSpeculation: (app, fingerprints, crates) => this.speculator.take(app, fingerprints, crates),
      awaitRestOfSave: () => this.speculator.awaitRestOfSave(),
      checkLayouts: async (app, result, files) => this.stateMigration.judge(app, await this.compiledLayouts.judge(app, result, files), result),
      migration: this.stateMigration,
      blockedBySource: (app, blocking, files) => this.sourceLayoutCheck.blocked(app, blocking, files),
      rsx,
    });
    this.scheduler = new PatchScheduler({
      patchOnce: (explicit, savedAt) => this.pipeline.patchOnce(explicit, savedAt),
      // During a restart's build the old app waits for the swap (the new binary has the saves).
      autoPatchAllowed: () => !!this.lifecycle.app && !this.lifecycle.restarting && this.settings.autoPatch,
      diskDiffersFromLive: () => this.diskDiffersFromLive(),
    });
    this.unsaved = new UnsavedText({
      files: this.files,
      problems: this.problems,
      speculator: this.speculator,
      observer: this.observer,
      settings: () => this.settings,
      judge: (file, text) => this.judge(file, text),
      schedule: () => this.scheduler.schedule(Date.now()),
      busy: () => this.scheduler.busy,
    });
    const t0 = Date.now();
    const files = this.files.list();
    for (const f of files) this.indexFromDisk(f);
    this.observer.log('info', `indexed ${files.length} Rust files in ${Date.now() - t0} ms`);
  }

  /** Does the disk hold code the connected app does not run? */
  private diskDiffersFromLive(): boolean {
    const app = this.lifecycle.app;
    if (!app || app.aslrReference === undefined) return false;
    const { files } = this.pipeline.changedSinceLive(app);
    // rsx! edits the window was sent as templates are not code the app lacks.
    return files.length > 0 && !this.rsx.covers(app, files);
  }

  /** Loads (or reloads) `cargo metadata`; without it analysis still runs per file. */
  async reloadWorkspace(): Promise<void> {
    const manifest = this.settings.manifestPath
      ? path.resolve(this.rootDir, this.settings.manifestPath)
      : findManifest(this.rootDir);
    if (!manifest) {
      this.workspace = undefined;
      this.reportWorkspaceProblem(`no Cargo.toml found at or above ${this.rootDir}: analysing files one by one, patching is unavailable`);
      return;
    }
    const load = await loadWorkspace(manifest);
    if (load.ok) {
      this.workspace = load.model;
      this.workspaceProblem = undefined;
      this.observer.log(
        'info',
        `workspace ${load.model.workspaceRoot}: ${load.model.packages.map((p) => p.name).join(', ')}`,
      );
    } else {
      this.workspace = undefined;
      this.reportWorkspaceProblem(`${load.message}\nAnalysing files one by one; patching is unavailable until this is fixed.`);
    }
  }

  private reportWorkspaceProblem(message: string): void {
    if (this.workspaceProblem === message) return; // said once
    this.workspaceProblem = message;
    this.observer.notify('warn', message);
  }

  updateSettings(settings: Settings): void {
    const before = this.settings;
    this.settings = settings;
    this.unsaved?.settingsChanged(before, settings);
    this.cargoArgsChanged(before.cargoArgs, settings.cargoArgs);
  }

  /**
   * Patches replay the rustc calls of the app's build, so a `cargoArgs` change (features, profile,
   * target) reaches the app only through a full build: said once per change while an app runs.
   */
  private cargoArgsChanged(before: string[], now: string[]): void {
    const app = this.lifecycle?.app;
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (!app || same(before, now)) return;
    const shown = (args: string[]) => (args.length ? `\`${args.join(' ')}\`` : 'no extra arguments');
    if (same(app.build.cargoArgs, now)) {
      this.observer.notify('info', `setting "cargoArgs" is back to ${shown(now)}, what the running app was built with.`);
      return;
    }
    this.observer.notify(
      'warn',
      `setting "cargoArgs" changed to ${shown(now)}, but the running app was built with ${shown(app.build.cargoArgs)}: ` +
        'patches are built the way the app was built, so the new arguments (features, profile, target) do not apply to it. Requires restart (a full build uses them).',
    );
  }

  // ---- files ---------------------------------------------------------------------------------

  /** Is this a file the session analyses (a Rust file inside the workspace, not in target/)? */
  isTracked(file: string): boolean {
    return this.files.isTracked(file);
  }

  private indexFromDisk(file: string): void {
    const text = this.files.readIfSmall(file);
    if (text === undefined) return;
    this.analyzer.update(file, text);
    this.files.noteContent(file, text);
  }

  /** Sees changes made outside the editor. */
  async startWatching(): Promise<void> {
    if (this.watcher || this.disposed) return;
    // The workspace root too: a virtual manifest, Cargo.lock and .cargo/config.toml live there.
    const ws = this.workspace;
    const dirs = ws ? [...new Set([ws.workspaceRoot, ...this.files.roots()])] : this.files.roots();
    const roots = dirs.filter((d) => !dirs.some((o) => o !== d && isSourcePathUnder(o, path.join(d, 'x.rs'))));
    this.watcher = new RustFileWatcher(
      roots,
      { changed: (f) => this.fileSaved(f, undefined, 'watcher'), deleted: (f) => this.fileDeleted(f) },
      undefined,
      (f) => this.buildInputs.isWatched(f),
    );
    this.watcher.watchFiles(this.buildInputs.filesToWatch());
    await this.watcher.ready();
  }

  /** An editor opened a file: the first content seen is its baseline (contract). */
  fileOpened(file: string, text: string): void {
    if (!this.files.isTracked(file)) {
      if (file.endsWith('.rs') && !this.openedOutside.has(file)) {
        this.openedOutside.add(file);
        this.observer.log('info', `${file} is outside the workspace: not analysed`);
      }
      return;
    }
    if (!this.analyzer.has(file)) {
      if (this.files.tooLargeText(file, text)) return;
      this.analyzer.update(file, text);
    }
    this.problems.publish();
  }

  /**
   * A file's content on disk changed: an editor save (`didSave`) or a change made outside the
   * editor (file watcher). Judges it, publishes the verdict and, if allowed, schedules a patch.
   */
  fileSaved(file: string, text: string | undefined, origin: 'editor' | 'watcher'): void {
    if (this.disposed) return;
    if (!this.files.isTracked(file)) return this.buildInputSaved(file);
    const arrived = Date.now();
    const content = text ?? this.files.readIfSmall(file);
    if (content === undefined || this.files.tooLargeText(file, content)) return;
    this.unsaved.saved(file);
    this.files.noteSaved(file, content, !!this.lifecycle.app);
    const known = this.analyzer.has(file);
    const repeated = this.files.isLastSeen(file, content);
    if (repeated && origin === 'watcher') return;
    this.judge(file, content);
    if (repeated) return; // already judged and scheduled when first seen
    if (!known && origin === 'watcher') return; // a new file: nothing links to it yet
    this.scheduler.schedule(arrived);
  }

  // ---- unsaved text ----------------------------------------------------------------------------

  /** An editor buffer's text changed (or it opened). */
  bufferChanged(file: string, text: string): void {
    if (this.disposed || !this.files.isTracked(file) || this.files.tooLargeText(file, text)) return;
    this.unsaved.changed(file, text);
  }

  /** The editor closed a buffer: its file is the disk's again (unsaved text is dropped). */
  bufferClosed(file: string): void {
    if (!this.disposed) this.unsaved.closed(file);
  }

  /** Updates the analysis with a file's content and publishes the verdict. */
  private judge(file: string, content: string): void {
    const repeated = this.files.noteContent(file, content);
    const t0 = performance.now();
    this.analyzer.update(file, content);
    this.analyzer.findingsFor(file);
    this.problems.forgetCompiledVerdict(file); // the layout gate has not seen this text
    if (!repeated) this.sourceLayoutCheck.sourcesChanged(); // nor has the build of a blocked save
    this.buildInputs.changed(file, content); // a build script's source: a restart finding; a proc-macro's: a gated rebuild
    this.lastAnalysisMs = performance.now() - t0;
    this.problems.publish();
  }

  /**
   * Functions whose code differs from the fat build's, located in the crates the app was built
   * from (files of other packages, tests, examples and build scripts are not the app's code).
   */
  private changedFunctions(app: RunningApp): ChangedFunctionRef[] {
    const ws = this.workspace;
    if (!ws) return [];
    // A proc-macro's code runs in rustc, not in the app: what it expands to is judged by the layout gate.
    const builtCrates = new Set(Object.keys(app.build.records).filter((k) => !k.endsWith('.proc-macro')).map((k) => k.slice(0, k.lastIndexOf('.'))));
    const out: ChangedFunctionRef[] = [];
    for (const file of this.analyzer.knownFiles()) {
      const pkg = ws.packageForFile(file);
      if (!pkg) continue;
      // The module trees say which targets own the file (a bin module beside src/lib.rs is the
      // bin's only); its module path comes from where it sits.
      const owners = ws.ownersOfFile(file);
      const owning = new Set(owners.targets.map((t) => t.crateName));
      const homes = locateInPackage(pkg, file).filter((h) => builtCrates.has(h.crate) && (owners.guessed || owning.has(h.crate)));
      if (homes.length === 0) continue;
      for (const fn of this.analyzer.changedFunctions(file)) {
        if (fn.kind === 'added' || fn.noMangle) continue;
        out.push({ fn, crates: [...new Set(homes.map((h) => h.crate))], modulePrefixes: homes.map((h) => h.modulePrefix) });
      }
    }
    return out;
  }

  /** A file that is not workspace Rust source changed: a manifest, a lock file, a file read at compile time. */
  private buildInputSaved(file: string): void {
    if (this.disposed || this.buildInputs.kindOf(file) === 'other') return;
    const verdict = this.buildInputs.changed(file);
    this.problems.publish();
    if (verdict !== 'none' || this.problems.restartFindings().length === 0) this.scheduler.schedule(Date.now());
  }

  /**
   * The functions of `file` whose code differs from what the running app was started with, and
   * whether each is live, pending or waits for a restart. Empty while no app runs.
   */
  functionsFor(file: string): FunctionStatus[] {
    const app = this.lifecycle.app;
    if (!app || !this.analyzer.has(file)) return [];
    if (this.buildInputs.isProcMacroInput(file)) return []; // its functions run in rustc, not in the app
    const fns = this.analyzer.changedFunctions(file).filter((f) => f.kind !== 'added');
    if (fns.length === 0) return [];
    const text = this.files.currentText(file);
    if (text === undefined) return [];
    const restart = this.problems.problemsFor(file).filter((p) => p.requiresRestart).map((p) => p.range);
    return this.liveFunctions.statesOf(app.pid, file, text, fns, restart);
  }

  fileDeleted(file: string): void {
    if (!this.analyzer.has(file)) return this.buildInputSaved(file); // a lock file, a config, a data file
    this.analyzer.remove(file);
    this.sourceLayoutCheck.sourcesChanged();
    this.problems.publish();
  }

  /** Everything to show on a file right now: findings and build errors. */
  problemsFor(file: string): Problem[] {
    return this.problems.problemsFor(file);
  }

  /** Files that currently have problems. */
  filesWithProblems(): string[] {
    return this.problems.filesWithProblems();
  }

  restartFindings(): Array<Finding | BuildInputFinding> {
    return this.problems.restartFindings();
  }

  // ---- status, app and patches ---------------------------------------------------------------

  status(): SessionStatus {
    return this.statusBoard.snapshot();
  }

  startApp(): Promise<CommandResult> {
    return this.lifecycle.start();
  }

  restartApp(): Promise<CommandResult> {
    return this.lifecycle.restart();
  }

  stopApp(): Promise<CommandResult> {
    return this.lifecycle.stop();
  }

  patchNow(): Promise<CommandResult> {
    return this.scheduler.run(true);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.scheduler?.dispose();
    this.unsaved?.dispose();
    this.speculator?.dispose();
    this.sourceLayoutCheck?.cancel();
    await this.watcher?.close().catch(() => undefined);
    this.watcher = undefined;
    await this.dioxusAssets?.close();
    await this.lifecycle?.dispose();
  }
}
