// Unsaved text: its verdict, and the patch built from it before the save.
//
// When typing pauses, the buffers that differ from the disk are judged as if saved (a trial on
// the analysis, which is put back afterwards): the editor shows their findings at once, and
// when they parse and nothing needs a restart, the patch is built in the background from a
// shadow of the sources (engine/shadow.ts) at low priority. On save, the pipeline asks for it:
// only if every saved file holds exactly the speculated text, and no other source changed, is
// the prepared patch used; otherwise it is cancelled and the save builds as usual. A speculation
// never sends anything and never writes a user's file.
import * as path from 'node:path';
import type { Finding, PatchabilityAnalyzer } from '../analysis';
import type { PreparedPatch } from '../engine';
import type { AppLifecycle, RunningApp } from './app-lifecycle';
import { BuildInputs, fingerprintOf } from './build-inputs';
import type { ProblemBoard } from './problem-board';
import type { SourceFiles } from './source-files';
import type { SessionObserver } from './observer';
import type { Settings } from './settings';

/** Nice value of speculative rustc and link runs: typing and the real builds come first. */
const SPECULATION_PRIORITY = 10;
/** How long a save of some speculated files waits for the others ("save all" saves file by file). */
const SAVE_ALL_WINDOW_MS = 50;

export interface SpeculatorDeps {
  lifecycle: AppLifecycle;
  files: SourceFiles;
  analyzer: PatchabilityAnalyzer;
  problems: ProblemBoard;
  buildInputs: BuildInputs;
  observer: SessionObserver;
  settings: () => Settings;
  /** A build of the saved text that is only judged (source-layout-check.ts) gives way to this one. */
  beforeBuild?: () => void;
  /** Would saving these buffers reach the app as rsx! templates, with no build (rsx-hot-reload.ts)? */
  templateOnly?: (app: RunningApp, buffers: Map<string, string>, changed: string[]) => boolean;
}

/** The verdict on unsaved buffers, as if they were saved. */
export interface BufferVerdict {
  /** Buffers that do not parse (nothing is built from them). */
  unparsed: string[];
  /** Buffers the analysis does not know yet (a new file: saving it makes it part of the build). */
  unknown: string[];
  /** Restart-class findings of the whole workspace with the buffers in place. */
  restart: Array<{ item: string; code: string }>;
}

interface Speculation {
  app: RunningApp;
  /** The exact texts built in place of the files. */
  overlays: Map<string, string>;
  /** Code fingerprints of every other source when the build started (read from the disk). */
  others: Map<string, string>;
  crates: string[];
  controller: AbortController;
  result: Promise<PreparedPatch>;
  done: boolean;
}

/** What the pipeline gets on save: the prepared patch, or why there is none. */
export interface SpeculationOutcome {
  prepared?: Extract<PreparedPatch, { ok: true }>;
  missed?: string;
}

export class Speculator {
  private current: Speculation | undefined;
  /** What the last pause did, for the log and the tests. */
  lastNote = '';
  /**
   * A speculative build has finished in this session: its own incremental cache is warm. The
   * first one compiles its crates from scratch (rustc's cache is keyed on the command line, so
   * the real build's cannot be borrowed) and may take several times a real build.
   */
  private warm = false;

  constructor(private readonly deps: SpeculatorDeps) {}

  /**
   * Judges the buffers as if saved and shows their findings on them. The analysis is left
   * exactly as it was (it describes the disk).
   */
  judge(buffers: Map<string, string>): BufferVerdict {
    const { analyzer, problems } = this.deps;
    const verdict: BufferVerdict = { unparsed: [], unknown: [], restart: [] };
    const known = new Map([...buffers].filter(([f]) => analyzer.has(f)));
    verdict.unknown = [...buffers.keys()].filter((f) => !known.has(f));
    const previews = new Map<string, Finding[]>();
    analyzer.trial(known, () => {
      for (const f of known.keys()) {
        if (analyzer.hasParseErrors(f)) verdict.unparsed.push(f);
        previews.set(f, analyzer.findingsFor(f));
      }
      for (const x of problems.restartFindings()) verdict.restart.push({ item: x.item, code: x.code });
    });
    const shown: string[] = [];
    for (const f of problems.previewedFiles()) if (!previews.has(f) && problems.setPreview(f, undefined)) shown.push(f);
    for (const [f, list] of previews) if (problems.setPreview(f, list)) shown.push(f);
    problems.publishFiles(shown); // only what changed: a pause happens after every burst of typing
    return verdict;
  }

  /** Typing paused with these unsaved buffers: build their patch if it can be sent on save. */
  speculate(buffers: Map<string, string>, verdict: BufferVerdict): void {
    const { lifecycle, files, buildInputs, observer, settings } = this.deps;
    const app = lifecycle.app;
    // Said in the output once per change of mind; the routine "nothing to do" only when verbose.
    const note = (why: string, level: 'info' | 'debug' = 'info') => {
      if (why !== this.lastNote) observer.log(level, `speculative build: ${why}`);
      this.lastNote = why;
    };
    if (!settings().speculate) return note('off (setting "speculate")', 'debug');
    if (!app || app.aslrReference === undefined || lifecycle.restarting) return note('no connected app', 'debug');
    if (buffers.size === 0) return note('no unsaved changes', 'debug');
    const cur = this.current;
    if (cur && cur.app === app && sameTexts(cur.overlays, buffers)) return; // already built or building
    this.cancel();
    const names = (list: string[]) => list.map((f) => path.basename(f)).join(', ');
    if (verdict.unknown.length) return note(`${names(verdict.unknown)} not analysed yet (a new file builds on save)`);
    if (verdict.unparsed.length) return note(`nothing built: ${names(verdict.unparsed)} does not parse`);
    if (verdict.restart.length) return note(`nothing built: ${verdict.restart[0].item} requires a restart (${verdict.restart[0].code})`);
    // A build script or a proc-macro runs at build time: a build script's change needs a restart,
    // a proc-macro crate is rebuilt from saved files only (engine/thin-build.ts).
    const buildTime = [...buffers.keys()].filter((f) => ['build-script', 'proc-macro'].includes(buildInputs.kindOf(f)));
    if (buildTime.length) return note(`nothing built: ${names(buildTime)} runs at build time (a build script asks for a restart when saved; a proc-macro crate is rebuilt and gated after the save)`);
    // What a save of these buffers would patch, by the pipeline's own rule.
    const disk = files.fingerprints();
    const view = new Map(disk);
    for (const [f, t] of buffers) view.set(f, fingerprintOf(f, t));
    const changed = [...view].filter(([f, fp]) => app.liveFingerprints.get(f) !== fp).map(([f]) => f);
    const inApp = changed.filter((f) => !buildInputs.outsideApp([f], app.bin).length);
    if (inApp.length === 0) return note('no code change the app would run', 'debug');
    if (this.deps.templateOnly?.(app, buffers, inApp)) return note('nothing built: an rsx! template update, sent on save without a build');
    const crates = buildInputs.cratesToRebuild(inApp, app.bin);
    const others = new Map([...disk].filter(([f]) => !buffers.has(f)));
    const controller = new AbortController();
    const overlays = new Map(buffers);
    this.deps.beforeBuild?.();
    const result = app.builder.prepare({ changedCrates: crates, aslrReference: app.aslrReference, overlays, signal: controller.signal, priority: SPECULATION_PRIORITY });
    const spec: Speculation = { app, overlays, others, crates, controller, result, done: false };
    this.current = spec;
    note(`building ${names([...overlays.keys()])} (${[...crates, app.bin.crateName].join(', ')})`);
    void result.then((r) => {
      spec.done = true;
      if (r.ok) this.warm = true;
      if (this.current !== spec) return;
      note(r.ok ? `ready: ${names([...overlays.keys()])} in ${r.result.timings.totalMs} ms` : `failed (${r.result.stage}); the save builds as usual: ${r.result.message.split('\n')[0]}`);
    });
  }

  /** A buffer changed: a speculation built from other text is stale. */
  bufferChanged(file: string, text: string): void {
    const cur = this.current;
    if (!cur) return;
    const built = cur.overlays.get(file);
    if (built === text) return;
    if (built === undefined && this.deps.files.readIfSmall(file) === text) return; // still the disk's text
    this.cancel('typing resumed');
  }

  /**
   * A "save all" of speculated files arrives file by file: while some hold the speculated text
   * and others do not yet, wait a moment for the rest, so the save patches them together
   * (bounded: a save of only some of them waits at most this window).
   */
  async awaitRestOfSave(): Promise<void> {
    const spec = this.current;
    if (!spec || spec.overlays.size < 2) return;
    const deadline = Date.now() + SAVE_ALL_WINDOW_MS;
    for (;;) {
      let saved = 0;
      for (const [f, text] of spec.overlays) if (this.deps.files.readIfSmall(f) === text) saved++;
      // Another text than the speculated one may be a write in progress (truncated, then written).
      if (saved === 0 || saved === spec.overlays.size || Date.now() >= deadline || this.current !== spec) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * The save's patch, if it was prepared: every speculated file holds exactly the speculated
   * text now, and every other source is as it was. Waits for a build still running.
   */
  async take(app: RunningApp, fingerprints: Map<string, string>, crates: Iterable<string>): Promise<SpeculationOutcome> {
    const spec = this.current;
    if (!spec) return {};
    const miss = (why: string): SpeculationOutcome => {
      this.cancel(why);
      return { missed: why };
    };
    if (spec.app !== app) return miss('the app changed');
    for (const c of crates) if (!spec.crates.includes(c)) return miss(`crate \`${c}\` was not part of it`);
    for (const [f, text] of spec.overlays) {
      if (this.deps.files.readIfSmall(f) !== text) return miss(`${path.basename(f)} on disk is not the text it was built from`);
    }
    for (const f of new Set([...spec.others.keys(), ...fingerprints.keys()])) {
      if (spec.overlays.has(f)) continue;
      if (spec.others.get(f) !== fingerprints.get(f)) return miss(`${path.basename(f)} changed since it was built`);
    }
    // A cold first build may still need longer than the save's own (incremental) build would.
    if (!spec.done && !this.warm) return miss('the first speculative build (a cold cache) was still running');
    // The save owns it now: typing after the save must not cancel the save's patch.
    this.current = undefined;
    const r = await spec.result;
    if (!r.ok) return { missed: `it failed (${r.result.stage})` };
    return { prepared: r };
  }

  /** Stops a running speculative build (its rustc is killed) and forgets a prepared one. */
  cancel(why?: string): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    cur.controller.abort();
    if (why) {
      this.lastNote = `cancelled: ${why}`;
      this.deps.observer.log('info', `speculative build: cancelled: ${why}`);
    }
    void cur.result.then(() => {
      if (this.current === undefined) cur.app.builder.discardPrepared();
    });
  }

  dispose(): void {
    this.cancel();
  }
}

function sameTexts(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([f, t]) => b.get(f) === t);
}
