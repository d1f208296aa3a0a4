// The app's lifecycle: choose the bin, fat build (a new baseline), launch with the devserver
// environment, wait for it to connect, stop, restart, and tell what an exit means. Start, stop
// and restart are serialised so two commands never race over the app. It never builds patches;
// the patch pipeline reads the running app from here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PatchabilityAnalyzer } from '../analysis';
import type { BuildInputs } from './build-inputs';
import { fatBuild, FatBuild, PatchBuilder, patchLibraryDir, RustcDiagnostic } from '../engine';
import { DevServer, devserverEnv, newLaunchSecret } from '../devserver';
import { selectBin, WorkspaceModel, BinTarget } from '../workspace/cargo-workspace';
import { resolveCargoTarget } from '../workspace/cargo-config';
import { launchCommandFor } from './launch-command';
import { AppProcess, AppExit, describeExit, patchBlame, PARENT_PID_ENV } from './app-process';
import { ExternalApp } from './external-app';
import type { ProblemBoard } from './problem-board';
import type { StatusBoard } from './status-board';
import { SourceFiles } from './source-files';
import { actionHint, SessionObserver } from './observer';
import type { Settings } from './settings';
import { dioxusAppOf, dioxusLaunchEnv, dioxusVersionVerdict, webBuildProblem, type LaunchEnv } from '../dioxus';

export interface CommandResult {
  ok: boolean;
  message: string;
}

/** A launched app: our child (piped or given our terminal) or one in a terminal we do not own. */
export type LaunchedApp = AppProcess | ExternalApp;

/** The one app process the session launched and patches. */
export interface RunningApp {
  process: LaunchedApp;
  /** Where its output (and its starts and exits) is written. */
  log: AppLog;
  build: FatBuild;
  builder: PatchBuilder;
  pid: number;
  /** Runtime address of `main`, known once the app connected. */
  aslrReference?: number;
  bin: BinTarget;
  /** When the last patch was applied (crash attribution). */
  lastPatchAt?: number;
  /** When the patch now on its way was sent, until the agent answers (crash attribution). */
  patchSentAt?: number;
  /** Fingerprints of the code the app currently runs (fat build, then each patch). */
  liveFingerprints: Map<string, string>;
  /** The sources' texts as the fat build read them (rsx! template keys are positions in them). */
  builtTexts: ReadonlyMap<string, string>;
  /** Connected through subsecond-agent, which detours entries when the setting allows. */
  detours?: boolean;
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
  private rebuilding = false;
  private currentLog: AppLog | undefined;
  /** What the last unrequested exit was reported as (a start that ends at once answers with it). */
  private lastExit: string | undefined;
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

  /** The log file of the current (or last) launch. */
  get logPath(): string | undefined {
    return this.currentLog?.file;
  }

  /** A restart is building the new binary (the old app still runs; patches wait for the swap). */
  get restarting(): boolean {
    return this.rebuilding;
  }

  start(): Promise<CommandResult> {
    return this.serial(() => this.doStart());
  }

  /**
   * Builds the new binary while the old app keeps running and swaps only when it is ready: a
   * failed build leaves the old app running.
   */
  restart(): Promise<CommandResult> {
    return this.serial(() => this.doRestart());
  }

  stop(): Promise<CommandResult> {
    return this.serial(async () => {
      if (!this.running) return { ok: true, message: 'no app is running' };
      await this.doStop();
      this.noAppRuns();
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

  /** The devserver, started on first use where the settings say; a string says why it could not start. */
  private async ensureDevServer(): Promise<DevServer | string> {
    if (!this.devserver) {
      const { devserverAddress: host, devserverPort: port } = this.deps.settings();
      try {
        this.devserver = await DevServer.listen({ host, port });
      } catch (err) {
        return `cannot start the devserver on ${host}:${port} (settings "devserverAddress", "devserverPort"): ${(err as Error).message}`;
      }
      this.devserver.on('protocol-error', (m: string) => this.deps.observer.log('warn', `devserver: ${m}`));
      this.devserver.on('refused-connection', (m: string) => this.deps.observer.notify('warn', `devserver: ${m}`));
      // The app's HotState types decide whether a layout finding migrates (state-migration.ts).
      this.devserver.on('agent-message', (_app, msg) => {
        if (msg.type !== 'HotStateTypes') return;
        this.deps.observer.log('info', `the app holds HotState values of ${msg.types.join(', ')}`);
        this.deps.problems.publish();
      });
      const loopback = host.startsWith('127.') || host === '::1' || host === 'localhost';
      const remote = loopback ? '' : ' (reachable from other machines: apps there are served only with their launch secret)';
      this.deps.observer.log('info', `devserver listening on ws://${this.devserver.host}:${this.devserver.port}/_dioxus${remote}`);
    }
    return this.devserver;
  }

  private async doStart(): Promise<CommandResult> {
    if (this.running) return { ok: true, message: `app already running (pid ${this.running.pid})` };
    const built = await this.build(undefined);
    if ('result' in built) return built.result;
    return this.launch(built);
  }

  private async doRestart(): Promise<CommandResult> {
    const old = this.running;
    if (!old) return this.doStart();
    this.rebuilding = true;
    let built: Built | { result: CommandResult };
    try {
      built = await this.build(old);
    } finally {
      this.rebuilding = false;
    }
    if ('result' in built) return built.result;
    if (this.running === old) await this.doStop(false);
    return this.launch(built);
  }

  /**
   * The fat build (a new baseline once it is launched). With `old` (a restart) the old app keeps
   * running meanwhile and through a failure, and every message says so.
   */
  private async build(old: RunningApp | undefined): Promise<Built | { result: CommandResult }> {
    const { status, observer, files } = this.deps;
    const fail = (message: string, diagnostics: RustcDiagnostic[] = []): { result: CommandResult } => {
      const alive = old && this.running === old;
      if (alive) {
        const keeps = `${old.bin.binName} (pid ${old.pid}) keeps running its previous code`;
        this.deps.problems.setBuildProblems(diagnostics, `the restart was not done: ${keeps}`);
        const full = `restart failed: ${message}; ${keeps}. Fix the error and ${actionHint(observer, 'restart')} again.`;
        status.set(undefined, 'failed', full);
        observer.notify('error', full);
        return { result: { ok: false, message: full } };
      }
      this.deps.problems.setBuildProblems(diagnostics, 'the app was not started');
      status.set('stopped', 'failed', message);
      observer.notify('error', message);
      return { result: { ok: false, message } };
    };
    const workspaceProblem = await this.deps.reloadWorkspace();
    const ws = this.deps.workspace();
    if (!ws) return fail(`cannot start the app: ${workspaceProblem ?? 'no cargo workspace'}`);
    const bin = selectBin(ws, this.deps.settings());
    if (typeof bin === 'string') return fail(bin);
    const web = webBuildProblem(ws.workspaceRoot, this.deps.settings().cargoArgs);
    if (web) return fail(`cannot start ${bin.binName}: ${web}`);
    // A Dioxus version whose devtools client would ignore patches is refused; one not tried is said.
    const dioxus = dioxusAppOf(ws.workspaceRoot);
    const dioxusVersion = dioxus && dioxusVersionVerdict(dioxus);
    if (dioxusVersion?.level === 'unsupported') return fail(`cannot start ${bin.binName}: ${dioxusVersion.message}`);
    if (dioxusVersion?.level === 'untested') observer.notify('warn', dioxusVersion.message);
    else if (dioxusVersion) observer.log('info', dioxusVersion.message);
    const devserver = await this.ensureDevServer();
    if (typeof devserver === 'string') return fail(devserver);
    if (old) status.set(undefined, undefined, `restart: fat build of ${bin.binName}… (${old.bin.binName}, pid ${old.pid}, keeps running until it is ready)`);
    else status.set('building', 'idle', `fat build of ${bin.binName}…`);
    // The baseline is the source the app is built from: read it as the build starts.
    const snapshot = new Map<string, string>();
    this.deps.buildInputs.takeBaseline();
    for (const f of files.list()) {
      const t = files.readIfSmall(f);
      if (t !== undefined) snapshot.set(f, t);
    }
    // The target and runner as `cargo run` would take them from cargo's config (cargo runs in the workspace root).
    const cargoArgs = this.deps.settings().cargoArgs;
    const targetConfig = await resolveCargoTarget(ws.workspaceRoot, cargoArgs);
    for (const p of targetConfig.problems) observer.log('warn', `cargo config: ${p}`);
    if (targetConfig.target) observer.log('info', `target ${targetConfig.target} (${targetConfig.targetFrom})`);
    const progress = observer.beginProgress(`subsecond: building ${bin.binName}`);
    const sessionDir = path.join(ws.targetDir, 'subsecond-lsp', bin.binName);
    let result;
    try {
      result = await fatBuild({
        manifestPath: ws.manifestPath,
        workspaceRoot: ws.workspaceRoot,
        targetDir: ws.targetDir,
        packageName: bin.packageName,
        packageSpec: bin.packageSpec,
        binName: bin.binName,
        workspaceCrates: ws.crateGraph(bin),
        sessionDir,
        extraCargoArgs: cargoArgs,
        target: targetConfig.target,
        onLine: (line) => {
          const m = /^\s*(Compiling|Checking|Finished|Linking)\s+(.*)$/.exec(line);
          if (m) progress.report(`${m[1]} ${m[2]}`);
          observer.log('debug', line);
        },
      });
    } finally {
      progress.done();
      this.deps.buildInputs.ownBuildEnded(); // the Cargo.lock cargo wrote is the baseline
    }
    // The engine's message already starts with what failed ("fat build failed: …").
    if (!result.ok) return fail(/^fat build/.test(result.message) ? result.message : `fat build failed: ${result.message}`, result.diagnostics);
    observer.log('info', `fat build of ${bin.binName} took ${result.ms} ms → ${result.build.exePath}`);
    const command = launchCommandFor(bin.binName, result.build.arch, targetConfig);
    if (!command.ok) return fail(command.message);
    if (command.note) observer.log('info', command.note);
    const packageDir = ws.package(bin.packageName)?.rootDir ?? ws.workspaceRoot;
    const launchEnv = dioxusLaunchEnv(dioxusAppOf(ws.workspaceRoot), packageDir);
    return { bin, build: result.build, ms: result.ms, snapshot, devserver, sessionDir, workspaceRoot: ws.workspaceRoot, runner: command.runner, launchEnv };
  }

  /** Launches a built binary where the settings say its terminal is, and waits for it to connect. */
  private async launch(built: Built): Promise<CommandResult> {
    const { status, observer, analyzer, problems } = this.deps;
    const { bin, snapshot, devserver } = built;
    problems.setBuildProblems([]);
    for (const [f, t] of snapshot) {
      if (analyzer.has(f)) analyzer.setBaseline(f, t);
      else analyzer.update(f, t);
    }
    analyzer.rebaseline([...snapshot.keys()].filter((f) => !analyzer.has(f)));
    const liveFingerprints = SourceFiles.fingerprintsOf(snapshot);
    for (const [f, fp] of this.deps.buildInputs.builtFrom(built.build)) liveFingerprints.set(f, fp);
    this.deps.watchBuildInputs();
    const where = this.deps.settings().appTerminal;
    // Each launch gets a probe beside the patch libraries: an app that cannot read it is sent bytes.
    devserver.setPatchDirectory(patchLibraryDir(built.build));
    const log = new AppLog(path.join(built.sessionDir, 'app.log'));
    this.currentLog = log;
    status.set('starting', 'idle', `starting ${bin.binName}…`);
    const recentStderr: string[] = [];
    // Ends the wait for the connection as soon as the app is gone (a crash at start).
    let markEnded: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const onLine = (stream: 'stdout' | 'stderr', line: string) => {
      log.line(line);
      if (stream === 'stderr') {
        recentStderr.push(line);
        if (recentStderr.length > 20) recentStderr.shift();
      }
      observer.appOutput(stream, line);
    };
    let proc: LaunchedApp;
    if (where === 'none' || where === 'inherit') {
      if (where === 'inherit') observer.terminalHandover?.('taken');
      const child: AppProcess = new AppProcess({
        exePath: built.build.exePath,
        runner: built.runner,
        cwd: built.workspaceRoot,
        env: built.launchEnv.set,
        unsetEnv: built.launchEnv.unset,
        devserver,
        terminal: where === 'inherit' ? 'inherit' : 'piped',
        onLine,
        onExit: (exit) => {
          this.onAppExit(child, exit, recentStderr);
          markEnded();
        },
      });
      proc = child;
    } else {
      // Not our child: the launch secret is registered once its wrapper reports the pid.
      const secret = newLaunchSecret();
      const env: Record<string, string> = { ...devserverEnv(devserver, secret), ...built.launchEnv.set, [PARENT_PID_ENV]: String(process.pid) };
      for (const name of built.launchEnv.unset) delete env[name];
      log.note(`${bin.binName} runs in ${where === 'editor' ? "the editor's terminal" : `a terminal opened by \`${where.join(' ')}\``}: its stdout is shown there, its stderr also here`);
      const external: ExternalApp | string = await ExternalApp.launch({
        exePath: built.build.exePath,
        runner: built.runner,
        cwd: built.workspaceRoot,
        env,
        unsetEnv: built.launchEnv.unset,
        logPath: log.file,
        runDir: path.join(built.sessionDir, 'run'),
        title: `${bin.binName} (subsecond)`,
        how: where,
        runInTerminal: observer.runInTerminal?.bind(observer),
        onLine,
        onExit: (exit) => {
          if (typeof external !== 'string') this.onAppExit(external, exit, recentStderr);
          markEnded();
        },
      });
      if (typeof external === 'string') {
        const message = `could not start ${bin.binName}: ${external}`;
        log.note(message);
        status.set('stopped', 'failed', message);
        observer.notify('error', message);
        this.noAppRuns();
        return { ok: false, message };
      }
      devserver.expectLaunch(external.pid, secret);
      proc = external;
    }
    const pid = proc.pid;
    if (pid === undefined) {
      const message = `could not start ${built.build.exePath}`;
      if (where === 'inherit') observer.terminalHandover?.('released');
      status.set('stopped', 'idle', message);
      return { ok: false, message };
    }
    log.note(`${bin.binName} started (pid ${pid}) from ${built.build.exePath}${built.runner.length ? ` through ${built.runner.join(' ')}` : ''}`);
    this.lastExit = undefined;
    this.running = {
      process: proc,
      build: built.build,
      builder: new PatchBuilder(built.build, { log: (level, msg) => observer.log(level, msg) }),
      pid,
      bin,
      liveFingerprints,
      builtTexts: snapshot,
      log,
    };
    status.newApp();
    problems.publish();
    try {
      const conn = await Promise.race([
        devserver.waitForApp(pid, 30_000, { helloGraceMs: 1000 }),
        ended.then(() => Promise.reject(new Error('exited'))),
      ]);
      const app = this.running;
      if (app?.pid !== pid) return { ok: false, message: this.lastExit ?? 'the app exited while starting' };
      app.aslrReference = conn.aslrReference;
      app.detours = conn.isAgent;
      if (conn.isAgent) {
        const other = conn.appPid !== undefined ? ` (pid ${conn.appPid} where it runs)` : '';
        observer.log(
          'info',
          conn.patchLibraries === 'bytes'
            ? `patch libraries are sent to pid ${pid}${other} over its connection: ${conn.patchLibrariesWhy}`
            : `patch libraries reach pid ${pid}${other} by path: ${conn.patchLibrariesWhy}`,
        );
      }
      const how = conn.isAgent
        ? `subsecond-agent (${this.deps.settings().detours ? 'entry detours on' : 'detours off: jump table only'}${conn.patchLibraries === 'bytes' ? '; patch libraries sent over the connection' : ''})`
        : 'a dx-compatible client (jump table only)';
      status.set('running', 'idle', `${bin.binName} running (pid ${pid}, fat build ${(built.ms / 1000).toFixed(1)} s), connected through ${how}`);
      this.deps.problems.publish(); // notes that entry detours make moot disappear
      this.deps.connected(app);
      return { ok: true, message: `started ${bin.binName} (pid ${pid})` };
    } catch {
      if (this.running?.pid !== pid) return { ok: false, message: this.lastExit ?? 'the app exited while starting' };
      const message =
        `${bin.binName} (pid ${pid}) is running but did not connect to the devserver: ` +
        'call subsecond_agent::connect() (or dioxus_devtools::connect_subsecond()) at the start of main' +
        // a connection is attributed by pid: a runner that forks the app instead of exec'ing it hides it
        (built.runner.length ? `; or the runner \`${built.runner[0]}\` starts the app in another process (a runner must exec it, as qemu-user does)` : '');
      status.set('running', 'failed', message);
      observer.notify('warn', message);
      return { ok: true, message };
    }
  }

  /** Stops the running app; `say` reports it (a restart says what happens next instead). */
  private async doStop(say = true): Promise<void> {
    const app = this.running;
    if (!app) return;
    this.running = undefined;
    await app.process.stop();
    if (say) this.deps.status.set('stopped', 'idle', 'app stopped');
  }

  /**
   * No app runs any more: nothing may describe one. Findings compare with the source the app was
   * built from, so they are measured against the disk again (the next start builds from it), and
   * build errors no longer say what "the app" keeps running.
   */
  private noAppRuns(): void {
    const { files, analyzer, problems } = this.deps;
    for (const f of files.list()) {
      if (!analyzer.has(f)) continue;
      const t = files.readIfSmall(f);
      if (t !== undefined) analyzer.setBaseline(f, t);
    }
    problems.setBuildProblems([]);
    problems.publish();
  }

  private onAppExit(proc: LaunchedApp, exit: AppExit, recentStderr: string[]): void {
    const app = this.running;
    const mine = !!app && app.process === proc;
    const log = mine ? app.log : this.currentLog;
    log?.note(`pid ${proc.pid} ${exit.code === null && exit.signal === null ? 'ended' : describeExit(exit)}${exit.requested ? ' (stopped by subsecond-lsp)' : ''}`);
    if (this.deps.settings().appTerminal === 'inherit' && proc instanceof AppProcess) this.deps.observer.terminalHandover?.('released', exit);
    if (!app || !mine) return; // already replaced (restart) or stopped
    this.running = undefined;
    if (exit.requested) return;
    const sincePatch = app.lastPatchAt !== undefined ? Date.now() - app.lastPatchAt : undefined;
    const crashed = exit.signal !== null || (exit.code !== null && exit.code !== 0);
    // An app in a terminal we do not own: only that terminal saw its exit status.
    const unknown = exit.code === null && exit.signal === null;
    // Only faults are blamed on a patch (patchBlame); an app in a terminal we do not own ended
    // with a status only that terminal saw.
    const patchNote = unknown
      ? sincePatch !== undefined && sincePatch < 10_000
        ? ` ${(sincePatch / 1000).toFixed(1)} s after a patch was applied (its exit status is shown in its terminal only)`
        : ''
      : crashed
        ? patchBlame(exit, app.lastPatchAt, Date.now(), app.patchSentAt)
        : '';
    const how = unknown ? 'ended' : describeExit(exit);
    const terminalNote = crashed && Date.now() - proc.startedAt < 1500 ? this.needsTerminal(recentStderr) : '';
    const message = `${app.bin.binName} (pid ${app.pid}) ${how}${patchNote}${terminalNote}. ${capitalize(actionHint(this.deps.observer, 'start'))} to start it again; its output is in ${app.log.file}.`;
    this.lastExit = message;
    this.noAppRuns();
    this.deps.status.set(crashed ? 'crashed' : 'stopped', 'idle', message);
    this.deps.observer.notify(crashed ? 'error' : 'info', message);
  }

  /** An app that died at once without a terminal says so in its own words; name the remedy. */
  private needsTerminal(stderr: string[]): string {
    if (this.deps.settings().appTerminal !== 'none') return '';
    const said = stderr.find((l) => NO_TERMINAL.test(l));
    if (!said) return '';
    return ` within a second of starting, apparently because it has no terminal ("${said.trim().slice(0, 160)}"): ${actionHint(this.deps.observer, 'terminal')}`;
  }
}

/** What apps print when they need a terminal and have none (crossterm, termion, ncurses). */
const NO_TERMINAL = /no such device or address|not a (tty|terminal)|inappropriate ioctl|failed to initiali[sz]e terminal|(open|opening) (the )?terminal|\/dev\/tty|Error opening terminal/i;

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What `build` hands to `launch`. */
interface Built {
  bin: BinTarget;
  build: FatBuild;
  ms: number;
  snapshot: Map<string, string>;
  devserver: DevServer;
  sessionDir: string;
  workspaceRoot: string;
  /** cargo's runner for the target, put before the executable; empty: run it directly. */
  runner: string[];
  /** What the app's kind adds to or removes from its environment (Dioxus assets). */
  launchEnv: LaunchEnv;
}

/**
 * The app's output, one file per bin (launches are appended, each with a header), so it is at
 * hand whatever the editor shows of it.
 */
export class AppLog {
  private fd: number | undefined;

  constructor(readonly file: string) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(file, 'a');
    } catch {
      this.fd = undefined; // an unwritable target dir must not stop the app
    }
    this.note(`---- ${new Date().toISOString()} launch`);
  }

  /** A line the app printed (both streams, in the order they arrived, as a terminal shows them). */
  line(text: string): void {
    this.write(`${text}\n`);
  }

  /** A line of our own, marked so it is not mistaken for the app's. */
  note(text: string): void {
    this.write(`[subsecond-lsp] ${text}\n`);
  }

  private write(text: string): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, text);
    } catch {
      /* disk full: the live output still reaches the front end */
    }
  }
}
