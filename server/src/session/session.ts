// The session: one workspace, its patchability analysis, and the app it runs and patches.
// It owns the pipeline (save → verdict → thin build → relay → the agent's answer) and the app
// lifecycle (fat build, launch, crash, restart, baselines). It reports through a
// SessionObserver as plain data and never imports the LSP library, so the editor front end and
// the terminal mode drive the very same code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PatchabilityAnalyzer, Finding } from '../analysis';
import { fatBuild, FatBuild, PatchBuilder, RustcDiagnostic } from '../engine';
import { DevServer, devserverEnv } from '../devserver';
import { WorkspaceModel, loadWorkspace, findManifest, BinTarget } from '../workspace/cargo-workspace';
import { AppProcess, AppExit, describeExit } from './app-process';
import { createHash } from 'node:crypto';
import { codeFingerprint } from './code-fingerprint';
import { RustFileWatcher } from './file-watcher';
import { isIgnoredDirName, isSourcePathUnder } from './source-paths';
import { rustcDiagnosticsToProblems } from './rustc-diagnostics';
import type { Settings } from './settings';
import type { Problem, SessionObserver, SessionStatus, AppState, PatchState, PatchTimingBreakdown } from './observer';


export interface CommandResult {
  ok: boolean;
  message: string;
}

interface RunningApp {
  process: AppProcess;
  build: FatBuild;
  builder: PatchBuilder;
  pid: number;
  aslrReference?: number;
  bin: BinTarget;
  /** When the last patch was applied (crash attribution). */
  lastPatchAt?: number;
  /** Fingerprints of the code the app currently runs (fat build, then each patch). */
  liveFingerprints: Map<string, string>;
}

export class Session {
  private analyzer!: PatchabilityAnalyzer;
  private workspace: WorkspaceModel | undefined;
  private workspaceProblem: string | undefined;
  private devserver: DevServer | undefined;
  private app: RunningApp | undefined;
  private appState: AppState = 'stopped';
  private patchState: PatchState = 'idle';
  private statusMessage = 'no app running';
  private patchesApplied = 0;
  private lastPatchMs: number | undefined;
  private lastPatchTimings: PatchTimingBreakdown | undefined;
  /** Analysis time of the save that triggered the pending patch. */
  private lastAnalysisMs = 0;
  /** Rustc errors of the last failed build, per file. */
  private buildProblems = new Map<string, Problem[]>();
  /** Files whose findings were last published, so cleared files get an empty list. */
  private publishedFindingFiles = new Set<string>();
  private readonly tooLarge = new Set<string>();
  private readonly openedOutside = new Set<string>();
  /** Hash of the last content seen per file: a save seen twice (didSave and the watcher) counts once. */
  private readonly lastSeen = new Map<string, string>();
  private watcher: RustFileWatcher | undefined;
  private readonly fingerprintCache = new Map<string, { mtimeMs: number; size: number; fingerprint: string }>();
  // Patch scheduling: saves during a build are coalesced; the newest disk state wins.
  private patchRunning = false;
  private patchPending = false;
  private pendingSince: number | undefined;
  private disposed = false;
  private lifecycle: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly rootDir: string,
    private settings: Settings,
    private readonly observer: SessionObserver,
  ) {}

  static async create(rootDir: string, settings: Settings, observer: SessionObserver): Promise<Session> {
    const s = new Session(path.resolve(rootDir), settings, observer);
    await s.init();
    return s;
  }

  private async init(): Promise<void> {
    await this.reloadWorkspace();
    this.analyzer = await PatchabilityAnalyzer.create({
      crateOf: (file) => this.workspace?.packageForFile(file)?.name,
      // The engine rebinds thread-locals to the app's storage on x86_64 only (engine/fixups.ts).
      threadLocalPolicy: process.arch === 'x64' ? 'keep' : 'reset',
    });
    const t0 = Date.now();
    const files = this.rustFilesOfWorkspace();
    for (const f of files) this.indexFromDisk(f);
    this.observer.log('info', `indexed ${files.length} Rust files in ${Date.now() - t0} ms`);
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
    this.settings = settings;
  }

  // ---- files ---------------------------------------------------------------------------------

  private rustFilesOfWorkspace(): string[] {
    const roots = this.workspace ? this.workspace.packages.map((p) => p.rootDir) : [this.rootDir];
    const seen = new Set<string>();
    const walk = (dir: string, depth: number) => {
      if (depth > 32) return;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (!isIgnoredDirName(e.name)) walk(full, depth + 1);
        } else if (e.isFile() && e.name.endsWith('.rs')) seen.add(full);
      }
    };
    for (const r of roots) walk(r, 0);
    return [...seen];
  }

  /** Is this a file the session analyses (a Rust file inside the workspace, not in target/)? */
  isTracked(file: string): boolean {
    if (!file.endsWith('.rs')) return false;
    const roots = this.workspace ? [this.workspace.workspaceRoot, ...this.workspace.packages.map((p) => p.rootDir)] : [this.rootDir];
    return roots.some((r) => isSourcePathUnder(r, file));
  }

  private readIfSmall(file: string): string | undefined {
    try {
      const st = fs.statSync(file);
      if (st.size > this.settings.maxFileBytes) {
        if (!this.tooLarge.has(file)) {
          this.tooLarge.add(file);
          this.observer.notify(
            'warn',
            `${path.basename(file)} is ${(st.size / 1048576).toFixed(1)} MB: too large for patchability analysis (limit ${(this.settings.maxFileBytes / 1048576).toFixed(1)} MB); it is skipped`,
          );
        }
        return undefined;
      }
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  private indexFromDisk(file: string): void {
    const text = this.readIfSmall(file);
    if (text === undefined) return;
    this.analyzer.update(file, text);
    this.lastSeen.set(file, createHash('sha1').update(text).digest('hex'));
  }

  /** Sees changes made outside the editor. */
  async startWatching(): Promise<void> {
    if (this.watcher || this.disposed) return;
    const roots = this.workspace ? [...new Set(this.workspace.packages.map((p) => p.rootDir))] : [this.rootDir];
    this.watcher = new RustFileWatcher(roots, {
      changed: (f) => this.fileSaved(f, undefined, 'watcher'),
      deleted: (f) => this.fileDeleted(f),
    });
    await this.watcher.ready();
  }

  /** An editor opened a file: the first content seen is its baseline (contract). */
  fileOpened(file: string, text: string): void {
    if (!this.isTracked(file)) {
      if (file.endsWith('.rs') && !this.openedOutside.has(file)) {
        this.openedOutside.add(file);
        this.observer.log('info', `${file} is outside the workspace: not analysed`);
      }
      return;
    }
    if (!this.analyzer.has(file)) {
      if (text.length > this.settings.maxFileBytes) return void this.readIfSmall(file);
      this.analyzer.update(file, text);
    }
    this.publishFindings();
  }

  /**
   * A file's content on disk changed: an editor save (`didSave`) or a change made outside the
   * editor (file watcher). Judges it, publishes the verdict and, if allowed, schedules a patch.
   */
  fileSaved(file: string, text: string | undefined, origin: 'editor' | 'watcher'): void {
    if (this.disposed || !this.isTracked(file)) return;
    const arrived = Date.now();
    const content = text ?? this.readIfSmall(file);
    if (content === undefined) return;
    if (content.length > this.settings.maxFileBytes) return void this.readIfSmall(file);
    const hash = createHash('sha1').update(content).digest('hex');
    // File timestamps are coarse (a few ms): two quick saves can share one. The content we were
    // given is the truth, so the patch decision never trusts a stale cached fingerprint. Without
    // a running app nothing needs it yet: drop the entry and fingerprint from disk when patching.
    this.fingerprintCache.delete(file);
    if (this.app) {
      try {
        const st = fs.statSync(file);
        this.fingerprintCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, fingerprint: codeFingerprint(content) });
      } catch {
        /* gone: re-read at patch time */
      }
    }
    const repeated = this.lastSeen.get(file) === hash;
    this.lastSeen.set(file, hash);
    if (repeated && origin === 'watcher') return;
    const known = this.analyzer.has(file);
    const t0 = performance.now();
    this.analyzer.update(file, content);
    this.analyzer.findingsFor(file);
    this.lastAnalysisMs = performance.now() - t0;
    this.publishFindings();
    if (repeated) return; // already judged and scheduled when first seen
    if (!known && origin === 'watcher') return; // a new file: nothing links to it yet
    this.schedulePatch(arrived);
  }

  fileDeleted(file: string): void {
    if (!this.analyzer.has(file)) return;
    this.analyzer.remove(file);
    this.publishFindings();
  }

  /** Everything to show on a file right now: findings and build errors. */
  problemsFor(file: string): Problem[] {
    const out: Problem[] = this.analyzer.findingsFor(file).map(findingToProblem);
    out.push(...(this.buildProblems.get(file) ?? []));
    return out;
  }

  /** Files that currently have problems. */
  filesWithProblems(): string[] {
    const files = new Set<string>(this.buildProblems.keys());
    for (const [f, list] of this.analyzer.findings()) if (list.length) files.add(f);
    return [...files];
  }

  restartFindings(): Finding[] {
    const out: Finding[] = [];
    for (const list of this.analyzer.findings().values()) for (const f of list) if (f.severity === 'restart') out.push(f);
    return out;
  }

  private publishFindings(): void {
    const now = new Set(this.filesWithProblems());
    const changed = new Set<string>([...now, ...this.publishedFindingFiles]);
    this.publishedFindingFiles = now;
    this.observer.problemsChanged([...changed]);
    this.emitStatus();
  }

  // ---- status --------------------------------------------------------------------------------

  status(): SessionStatus {
    return {
      app: this.appState,
      pid: this.app?.pid,
      bin: this.app?.bin.binName,
      patch: this.patchState,
      patchesApplied: this.patchesApplied,
      lastPatchMs: this.lastPatchMs,
      lastPatchTimings: this.lastPatchTimings,
      blockingFindings: this.restartFindings().length,
      message: this.statusMessage,
    };
  }

  private setStatus(app: AppState | undefined, patch: PatchState | undefined, message: string): void {
    if (app) this.appState = app;
    if (patch) this.patchState = patch;
    this.statusMessage = message;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.observer.statusChanged(this.status());
  }

  // ---- app lifecycle -------------------------------------------------------------------------

  /** Serialises start/stop/restart so two commands never race over the app. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lifecycle.then(work, work);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  startApp(): Promise<CommandResult> {
    return this.serial(() => this.doStart());
  }

  restartApp(): Promise<CommandResult> {
    return this.serial(async () => {
      if (this.app) await this.doStop();
      return this.doStart();
    });
  }

  stopApp(): Promise<CommandResult> {
    return this.serial(async () => {
      if (!this.app) return { ok: true, message: 'no app is running' };
      await this.doStop();
      return { ok: true, message: 'app stopped' };
    });
  }

  private chooseBin(ws: WorkspaceModel): BinTarget | string {
    const bins = ws.bins().filter((b) => !this.settings.package || b.packageName === this.settings.package);
    if (this.settings.bin) {
      const b = bins.find((x) => x.binName === this.settings.bin);
      return b ?? `no bin target named "${this.settings.bin}" in the workspace (bins: ${bins.map((x) => x.binName).join(', ') || 'none'})`;
    }
    if (bins.length === 1) return bins[0];
    if (bins.length === 0) return 'the workspace has no bin target to run';
    const rootPkg = ws.packages.find((p) => p.manifestPath === ws.manifestPath);
    const inRoot = rootPkg ? bins.filter((b) => b.packageName === rootPkg.name) : [];
    if (inRoot.length === 1) return inRoot[0];
    return `the workspace has several bin targets (${bins.map((b) => b.binName).join(', ')}): set "bin" in the settings or pass --bin`;
  }

  private async doStart(): Promise<CommandResult> {
    if (this.app) return { ok: true, message: `app already running (pid ${this.app.pid})` };
    await this.reloadWorkspace();
    const ws = this.workspace;
    if (!ws) {
      const message = `cannot start the app: ${this.workspaceProblem ?? 'no cargo workspace'}`;
      this.setStatus('stopped', 'idle', message);
      return { ok: false, message };
    }
    const bin = this.chooseBin(ws);
    if (typeof bin === 'string') {
      this.setStatus('stopped', 'idle', bin);
      this.observer.notify('error', bin);
      return { ok: false, message: bin };
    }
    if (!this.devserver) {
      this.devserver = await DevServer.listen({ port: 0 });
      this.devserver.on('protocol-error', (m: string) => this.observer.log('warn', `devserver: ${m}`));
      this.observer.log('info', `devserver listening on ws://${this.devserver.host}:${this.devserver.port}/_dioxus`);
    }
    this.setStatus('building', 'idle', `fat build of ${bin.binName}…`);
    // The baseline is the source the app is built from: read it as the build starts.
    const snapshot = new Map<string, string>();
    for (const f of this.rustFilesOfWorkspace()) {
      const t = this.readIfSmall(f);
      if (t !== undefined) snapshot.set(f, t);
    }
    const progress = this.observer.beginProgress(`subsecond: building ${bin.binName}`);
    const sessionDir = path.join(ws.targetDir, 'subsecond-lsp', bin.binName);
    let result;
    try {
      result = await fatBuild({
        manifestPath: ws.manifestPath,
        workspaceRoot: ws.workspaceRoot,
        targetDir: ws.targetDir,
        packageName: bin.packageName,
        binName: bin.binName,
        workspaceCrates: ws.crateGraph(),
        sessionDir,
        extraCargoArgs: this.settings.cargoArgs,
        onLine: (line) => {
          const m = /^\s*(Compiling|Checking|Finished|Linking)\s+(.*)$/.exec(line);
          if (m) progress.report(`${m[1]} ${m[2]}`);
          this.observer.log('debug', line);
        },
      });
    } finally {
      progress.done();
    }
    if (!result.ok) {
      this.setBuildProblems(result.diagnostics);
      const message = `fat build failed: ${result.message}`;
      this.setStatus('stopped', 'failed', message);
      this.observer.notify('error', message);
      return { ok: false, message };
    }
    this.setBuildProblems([]);
    for (const [f, t] of snapshot) {
      if (this.analyzer.has(f)) this.analyzer.setBaseline(f, t);
      else this.analyzer.update(f, t);
    }
    this.analyzer.rebaseline([...snapshot.keys()].filter((f) => !this.analyzer.has(f)));
    const liveFingerprints = new Map([...snapshot].map(([f, t]) => [f, codeFingerprint(t)]));
    this.observer.log('info', `fat build of ${bin.binName} took ${result.ms} ms → ${result.build.exePath}`);
    this.setStatus('starting', 'idle', `starting ${bin.binName}…`);
    const proc = new AppProcess({
      exePath: result.build.exePath,
      cwd: ws.workspaceRoot,
      env: devserverEnv(this.devserver),
      onLine: (stream, line) => this.observer.appOutput(stream, line),
      onExit: (exit) => this.onAppExit(proc, exit),
    });
    const pid = proc.pid;
    if (pid === undefined) {
      const message = `could not start ${result.build.exePath}`;
      this.setStatus('stopped', 'idle', message);
      return { ok: false, message };
    }
    this.app = {
      process: proc,
      build: result.build,
      builder: new PatchBuilder(result.build, { log: (level, msg) => this.observer.log(level, msg) }),
      pid,
      bin,
      liveFingerprints,
    };
    this.patchesApplied = 0;
    this.lastPatchMs = undefined;
    this.publishFindings();
    try {
      const conn = await this.devserver.waitForApp(pid, 30_000, { helloGraceMs: 1000 });
      if (this.app?.pid !== pid) return { ok: false, message: 'the app exited while starting' };
      this.app.aslrReference = conn.aslrReference;
      const how = conn.isAgent ? 'subsecond-agent' : 'a dx-compatible client';
      this.setStatus('running', 'idle', `${bin.binName} running (pid ${pid}, fat build ${(result.ms / 1000).toFixed(1)} s), connected through ${how}`);
      // Saves made while the app was building or starting were not patched: catch up now, so
      // nothing saved is lost (a file cargo already compiled just yields a redundant patch).
      if (this.settings.autoPatch && this.changedSinceLive(this.app).files.length > 0) this.schedulePatch(Date.now());
      return { ok: true, message: `started ${bin.binName} (pid ${pid})` };
    } catch {
      if (this.app?.pid !== pid) return { ok: false, message: 'the app exited while starting' };
      const message =
        `${bin.binName} (pid ${pid}) is running but did not connect to the devserver: ` +
        'call subsecond_agent::connect() (or dioxus_devtools::connect_subsecond()) at the start of main';
      this.setStatus('running', 'failed', message);
      this.observer.notify('warn', message);
      return { ok: true, message };
    }
  }

  private async doStop(): Promise<void> {
    const app = this.app;
    if (!app) return;
    this.app = undefined;
    await app.process.stop();
    this.setStatus('stopped', 'idle', 'app stopped');
  }

  private onAppExit(proc: AppProcess, exit: AppExit): void {
    if (!this.app || this.app.process !== proc) return; // already replaced (restart)
    const app = this.app;
    this.app = undefined;
    if (exit.requested) return;
    const sincePatch = app.lastPatchAt !== undefined ? Date.now() - app.lastPatchAt : undefined;
    const patchNote =
      sincePatch !== undefined && sincePatch < 10_000
        ? ` ${(sincePatch / 1000).toFixed(1)} s after a patch was applied: the patch is the likely cause`
        : app.lastPatchAt !== undefined
          ? ' (patches had been applied earlier)'
          : '';
    const crashed = exit.signal !== null || (exit.code !== null && exit.code !== 0);
    const message = `${app.bin.binName} (pid ${app.pid}) ${describeExit(exit)}${patchNote}. Start it again with "subsecond.startApp".`;
    this.setStatus(crashed ? 'crashed' : 'stopped', 'idle', message);
    this.observer.notify(crashed ? 'error' : 'info', message);
  }

  // ---- patching ------------------------------------------------------------------------------

  patchNow(): Promise<CommandResult> {
    return this.runPatch(true);
  }

  private schedulePatch(savedAt: number): void {
    if (!this.app || !this.settings.autoPatch) return;
    this.pendingSince ??= savedAt;
    if (this.patchRunning) {
      this.patchPending = true; // the running build will loop once more with the newest state
      return;
    }
    void this.runPatch(false);
  }

  private async runPatch(explicit: boolean): Promise<CommandResult> {
    if (this.patchRunning) {
      this.patchPending = true;
      return { ok: true, message: 'a patch build is running; the newest state will be patched after it' };
    }
    this.patchRunning = true;
    let last: CommandResult = { ok: true, message: 'nothing to patch' };
    try {
      do {
        this.patchPending = false;
        last = await this.patchOnce(explicit);
      } while (this.patchPending && this.app);
    } finally {
      this.patchRunning = false;
      this.pendingSince = undefined;
    }
    return last;
  }

  /** Code fingerprints of the workspace's files now, re-reading only files whose stat changed. */
  private currentFingerprints(): Map<string, string> {
    const out = new Map<string, string>();
    for (const f of this.rustFilesOfWorkspace()) {
      let st: fs.Stats;
      try {
        st = fs.statSync(f);
      } catch {
        continue;
      }
      const cached = this.fingerprintCache.get(f);
      if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
        out.set(f, cached.fingerprint);
        continue;
      }
      const t = this.readIfSmall(f);
      if (t === undefined) continue;
      const fingerprint = codeFingerprint(t);
      this.fingerprintCache.set(f, { mtimeMs: st.mtimeMs, size: st.size, fingerprint });
      out.set(f, fingerprint);
    }
    return out;
  }

  private changedSinceLive(app: RunningApp): { files: string[]; fingerprints: Map<string, string> } {
    const fingerprints = this.currentFingerprints();
    const files = [...fingerprints].filter(([f, fp]) => app.liveFingerprints.get(f) !== fp).map(([f]) => f);
    return { files, fingerprints };
  }

  private async patchOnce(explicit: boolean): Promise<CommandResult> {
    const app = this.app;
    if (!app) return { ok: false, message: 'no app is running: start it with "subsecond.startApp"' };
    const saveTime = this.pendingSince ?? Date.now();
    this.pendingSince = undefined;
    const blocking = this.restartFindings();
    if (blocking.length > 0) {
      const first = blocking[0];
      const message =
        `patch blocked: ${blocking.length} change${blocking.length > 1 ? 's' : ''} require${blocking.length > 1 ? '' : 's'} a restart ` +
        `(${first.item}: ${first.code}); run "subsecond.restartApp" to apply`;
      this.setStatus(undefined, 'blocked', message);
      return { ok: false, message };
    }
    if (app.aslrReference === undefined) {
      if (this.appState === 'starting') {
        const message = 'waiting for the app to connect; the save will be patched once it has';
        this.setStatus(undefined, undefined, message);
        return { ok: true, message };
      }
      const message = 'the app has not connected to the devserver, so it cannot be patched';
      this.setStatus(undefined, 'failed', message);
      return { ok: false, message };
    }
    const { files, fingerprints } = this.changedSinceLive(app);
    if (files.length === 0) {
      const message = explicit ? 'nothing to patch: the code the app runs is up to date' : 'saved: no code change to patch (comments or formatting only)';
      this.setStatus(undefined, 'unchanged', message);
      return { ok: true, message };
    }
    const crates = new Set<string>();
    for (const f of files) {
      const pkg = this.workspace?.packageForFile(f);
      if (pkg && pkg.name !== app.bin.packageName) crates.add(this.workspace!.crateNameOf(pkg));
    }
    this.setStatus(undefined, 'building', `building patch for ${files.map((f) => path.basename(f)).join(', ')}…`);
    this.devserver?.broadcast('HotPatchStart');
    const progress = this.observer.beginProgress('subsecond: patching');
    let result;
    try {
      progress.report(`rustc ${[...crates, app.bin.crateName].join(', ')}`);
      result = await app.builder.build({ changedCrates: [...crates], aslrReference: app.aslrReference });
    } finally {
      progress.done();
    }
    if (this.app !== app) {
      const message = 'the app exited or restarted during the patch build; the patch was discarded';
      this.observer.log('warn', message);
      return { ok: false, message };
    }
    if (!result.ok) {
      this.setBuildProblems(result.diagnostics);
      const message = `patch build failed (${result.stage}): ${result.message}. The app keeps running its previous code.`;
      this.setStatus(undefined, 'failed', message);
      if (result.diagnostics.length === 0) this.observer.notify('error', message);
      return { ok: false, message };
    }
    this.setBuildProblems([]);
    const t = result.timings;
    this.observer.log(
      'info',
      `patch ${path.basename(result.soPath)}: rustc ${t.rustcMs} ms, objects ${t.objectsMs} ms, stub ${t.stubMs} ms, link ${t.linkMs} ms, jump table ${t.jumpTableMs} ms (${Object.keys(result.jumpTable.map).length} entries)`,
    );
    for (const note of result.notes) this.observer.log('warn', note);
    const relayStart = Date.now();
    let delivery;
    try {
      delivery = await this.devserver!.sendPatch(app.pid, result.jumpTable, {
        msElapsed: Date.now() - saveTime,
        expectedAslrReference: app.aslrReference,
        ackTimeoutMs: this.settings.patchAckTimeoutMs,
      });
    } catch (err) {
      const message = `patch not delivered: ${(err as Error).message}`;
      this.setStatus(undefined, 'failed', message);
      return { ok: false, message };
    }
    const relayMs = Date.now() - relayStart;
    if (!delivery.acked && delivery.outcome !== 'plain-client') {
      // Sent into the void (no answer, a failed write, the app gone): the app may or may not run
      // the new code, so nothing is counted as live and the next save patches everything again.
      const message = `the patch was not confirmed: ${delivery.reason}`;
      this.setStatus(undefined, 'failed', message);
      this.observer.notify('warn', message);
      return { ok: false, message };
    }
    if (delivery.acked && !delivery.ok) {
      const message = `the app could not apply the patch: ${delivery.error ?? 'unknown error'}. It keeps running its previous code.`;
      this.setStatus(undefined, 'failed', message);
      this.observer.notify('error', message);
      return { ok: false, message };
    }
    app.lastPatchAt = Date.now();
    app.liveFingerprints = fingerprints;
    this.patchesApplied++;
    this.lastPatchMs = Date.now() - saveTime;
    const applyMs = delivery.acked ? (delivery.applyMicros ?? 0) / 1000 : 0;
    this.lastPatchTimings = {
      totalMs: this.lastPatchMs,
      analysisMs: Math.round(this.lastAnalysisMs * 100) / 100,
      rustcMs: t.rustcMs,
      objectsMs: t.objectsMs,
      stubMs: t.stubMs,
      linkMs: t.linkMs,
      jumpTableMs: t.jumpTableMs,
      relayMs: Math.max(0, relayMs - applyMs),
      applyMs,
    };
    // A plain dioxus-devtools client never answers: say so plainly rather than relaying the
    // devserver's technical reason, which reads like a failure.
    const how = delivery.acked
      ? `applied in ${((delivery.applyMicros ?? 0) / 1000).toFixed(1)} ms`
      : 'sent to a dx-compatible client, which does not report back';
    const names = files.map((f) => path.basename(f)).join(', ');
    const message = `⚡ patched ${names} in ${this.lastPatchMs} ms (${how}; relay ${relayMs} ms)`;
    this.setStatus(undefined, 'applied', message);
    return { ok: true, message };
  }

  private setBuildProblems(diags: RustcDiagnostic[]): void {
    const before = [...this.buildProblems.keys()];
    this.buildProblems = rustcDiagnosticsToProblems(diags);
    this.observer.problemsChanged([...new Set([...before, ...this.buildProblems.keys()])]);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.watcher?.close().catch(() => undefined);
    this.watcher = undefined;
    if (this.app) await this.doStop().catch(() => undefined);
    await this.devserver?.close().catch(() => undefined);
    this.devserver = undefined;
  }
}

function findingToProblem(f: Finding): Problem {
  return {
    file: f.file,
    range: f.range,
    // restart and warning both show as LSP warnings; only restart blocks patches and offers a restart
    severity: f.severity === 'info' ? 'info' : 'warning',
    code: f.code,
    message: f.message,
    related: f.related,
    requiresRestart: f.severity === 'restart',
  };
}
