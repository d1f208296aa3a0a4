// The app's lifecycle: choose the bin, fat build (a new baseline), launch with the devserver
// environment, wait for it to connect, stop, restart, and tell what an exit means. Start, stop
// and restart are serialised so two commands never race over the app. It never builds patches;
// the patch pipeline reads the running app from here.
import * as path from 'node:path';
import type { PatchabilityAnalyzer } from '../analysis';
import type { BuildInputs } from './build-inputs';
import { fatBuild, FatBuild, PatchBuilder } from '../engine';
import { DevServer } from '../devserver';
import { selectBin, WorkspaceModel, BinTarget } from '../workspace/cargo-workspace';
import { AppProcess, AppExit, describeExit, patchBlame } from './app-process';
import type { ProblemBoard } from './problem-board';
import type { StatusBoard } from './status-board';
import { SourceFiles } from './source-files';
import type { SessionObserver } from './observer';
import type { Settings } from './settings';

export interface CommandResult {
  ok: boolean;
  message: string;
}

/** The one app process the session launched and patches. */
export interface RunningApp {
  process: AppProcess;
  build: FatBuild;
  builder: PatchBuilder;
  pid: number;
  /** Runtime address of `main`, known once the app connected. */
  aslrReference?: number;
  bin: BinTarget;
  /** When the last patch was applied (crash attribution). */
  lastPatchAt?: number;
  /** Fingerprints of the code the app currently runs (fat build, then each patch). */
  liveFingerprints: Map<string, string>;
}

export interface AppLifecycleDeps {
  settings: () => Settings;
  workspace: () => WorkspaceModel | undefined;
  /** Reloads `cargo metadata`; resolves to the problem that prevents a workspace, if any. */
  reloadWorkspace: () => Promise<string | undefined>;
  files: SourceFiles;
  analyzer: PatchabilityAnalyzer;
  problems: ProblemBoard;
  status: StatusBoard;
  observer: SessionObserver;
  /** What a saved non-Rust file means: baselines of manifests, dep-info of the fat build. */
  buildInputs: BuildInputs;
  /** The fat build told which files crates read: watch them. */
  watchBuildInputs: () => void;
  /** The app connected: saves made while it built or started may need a patch now. */
  connected: (app: RunningApp) => void;
}

export class AppLifecycle {
  private running: RunningApp | undefined;
  private devserver: DevServer | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AppLifecycleDeps) {}

  /** The running app, if any (undefined while none runs or after it exited). */
  get app(): RunningApp | undefined {
    return this.running;
  }

  get devServer(): DevServer | undefined {
    return this.devserver;
  }

  start(): Promise<CommandResult> {
    return this.serial(() => this.doStart());
  }

  restart(): Promise<CommandResult> {
    return this.serial(async () => {
      if (this.running) await this.doStop();
      return this.doStart();
    });
  }

  stop(): Promise<CommandResult> {
    return this.serial(async () => {
      if (!this.running) return { ok: true, message: 'no app is running' };
      await this.doStop();
      return { ok: true, message: 'app stopped' };
    });
  }

  async dispose(): Promise<void> {
    if (this.running) await this.doStop().catch(() => undefined);
    await this.devserver?.close().catch(() => undefined);
    this.devserver = undefined;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async ensureDevServer(): Promise<DevServer> {
    if (!this.devserver) {
      this.devserver = await DevServer.listen({ port: 0 });
      this.devserver.on('protocol-error', (m: string) => this.deps.observer.log('warn', `devserver: ${m}`));
      this.devserver.on('refused-connection', (m: string) => this.deps.observer.notify('warn', `devserver: ${m}`));
      this.deps.observer.log('info', `devserver listening on ws://${this.devserver.host}:${this.devserver.port}/_dioxus`);
    }
    return this.devserver;
  }

  private async doStart(): Promise<CommandResult> {
    const { status, observer, files, analyzer, problems } = this.deps;
    if (this.running) return { ok: true, message: `app already running (pid ${this.running.pid})` };
    const workspaceProblem = await this.deps.reloadWorkspace();
    const ws = this.deps.workspace();
    if (!ws) {
      const message = `cannot start the app: ${workspaceProblem ?? 'no cargo workspace'}`;
      status.set('stopped', 'idle', message);
      return { ok: false, message };
    }
    const bin = selectBin(ws, this.deps.settings());
    if (typeof bin === 'string') {
      status.set('stopped', 'idle', bin);
      observer.notify('error', bin);
      return { ok: false, message: bin };
    }
    const devserver = await this.ensureDevServer();
    status.set('building', 'idle', `fat build of ${bin.binName}…`);
    // The baseline is the source the app is built from: read it as the build starts.
    const snapshot = new Map<string, string>();
    this.deps.buildInputs.takeBaseline();
    for (const f of files.list()) {
      const t = files.readIfSmall(f);
      if (t !== undefined) snapshot.set(f, t);
    }
    const progress = observer.beginProgress(`subsecond: building ${bin.binName}`);
    const sessionDir = path.join(ws.targetDir, 'subsecond-lsp', bin.binName);
    let result;
    try {
      result = await fatBuild({
        manifestPath: ws.manifestPath,
        workspaceRoot: ws.workspaceRoot,
        targetDir: ws.targetDir,
        packageName: bin.packageName,
        binName: bin.binName,
        workspaceCrates: ws.crateGraph(bin),
        sessionDir,
        extraCargoArgs: this.deps.settings().cargoArgs,
        onLine: (line) => {
          const m = /^\s*(Compiling|Checking|Finished|Linking)\s+(.*)$/.exec(line);
          if (m) progress.report(`${m[1]} ${m[2]}`);
          observer.log('debug', line);
        },
      });
    } finally {
      progress.done();
    }
    if (!result.ok) {
      problems.setBuildProblems(result.diagnostics);
      const message = `fat build failed: ${result.message}`;
      status.set('stopped', 'failed', message);
      observer.notify('error', message);
      return { ok: false, message };
    }
    problems.setBuildProblems([]);
    for (const [f, t] of snapshot) {
      if (analyzer.has(f)) analyzer.setBaseline(f, t);
      else analyzer.update(f, t);
    }
    analyzer.rebaseline([...snapshot.keys()].filter((f) => !analyzer.has(f)));
    const liveFingerprints = SourceFiles.fingerprintsOf(snapshot);
    for (const [f, fp] of this.deps.buildInputs.builtFrom(result.build)) liveFingerprints.set(f, fp);
    this.deps.watchBuildInputs();
    observer.log('info', `fat build of ${bin.binName} took ${result.ms} ms → ${result.build.exePath}`);
    status.set('starting', 'idle', `starting ${bin.binName}…`);
    const proc = new AppProcess({
      exePath: result.build.exePath,
      cwd: ws.workspaceRoot,
      env: {},
      devserver,
      onLine: (stream, line) => observer.appOutput(stream, line),
      onExit: (exit) => this.onAppExit(proc, exit),
    });
    const pid = proc.pid;
    if (pid === undefined) {
      const message = `could not start ${result.build.exePath}`;
      status.set('stopped', 'idle', message);
      return { ok: false, message };
    }
    this.running = {
      process: proc,
      build: result.build,
      builder: new PatchBuilder(result.build, { log: (level, msg) => observer.log(level, msg) }),
      pid,
      bin,
      liveFingerprints,
    };
    status.newApp();
    problems.publish();
    try {
      const conn = await devserver.waitForApp(pid, 30_000, { helloGraceMs: 1000 });
      const app = this.running;
      if (app?.pid !== pid) return { ok: false, message: 'the app exited while starting' };
      app.aslrReference = conn.aslrReference;
      const how = conn.isAgent ? 'subsecond-agent' : 'a dx-compatible client';
      status.set('running', 'idle', `${bin.binName} running (pid ${pid}, fat build ${(result.ms / 1000).toFixed(1)} s), connected through ${how}`);
      this.deps.connected(app);
      return { ok: true, message: `started ${bin.binName} (pid ${pid})` };
    } catch {
      if (this.running?.pid !== pid) return { ok: false, message: 'the app exited while starting' };
      const message =
        `${bin.binName} (pid ${pid}) is running but did not connect to the devserver: ` +
        'call subsecond_agent::connect() (or dioxus_devtools::connect_subsecond()) at the start of main';
      status.set('running', 'failed', message);
      observer.notify('warn', message);
      return { ok: true, message };
    }
  }

  private async doStop(): Promise<void> {
    const app = this.running;
    if (!app) return;
    this.running = undefined;
    await app.process.stop();
    this.deps.status.set('stopped', 'idle', 'app stopped');
  }

  private onAppExit(proc: AppProcess, exit: AppExit): void {
    const app = this.running;
    if (!app || app.process !== proc) return; // already replaced (restart)
    this.running = undefined;
    if (exit.requested) return;
    const patchNote = patchBlame(exit, app.lastPatchAt, Date.now());
    const crashed = exit.signal !== null || (exit.code !== null && exit.code !== 0);
    const message = `${app.bin.binName} (pid ${app.pid}) ${describeExit(exit)}${patchNote}. Start it again with "subsecond.startApp".`;
    this.deps.status.set(crashed ? 'crashed' : 'stopped', 'idle', message);
    this.deps.observer.notify(crashed ? 'error' : 'info', message);
  }
}
