// One patch attempt: the disk's current state → the verdict → a thin build → the relay → the
// agent's answer, and what to tell the user about it. It reads the running app from the
// lifecycle and never starts or stops it; a result for an app that exited or restarted during
// the build is discarded.
import * as path from 'node:path';
import type { DetourReport } from '../devserver';
import { detouredByReport } from '../devserver';
import { keepListFor } from '../engine';
import type { WorkspaceModel } from '../workspace/cargo-workspace';
import type { AppLifecycle, RunningApp } from './app-lifecycle';
import { fingerprintOf } from './build-inputs';
import type { BuildInputs } from './build-inputs';
import type { PatchAttempt } from './patch-scheduler';
import type { LiveFunctions } from './live-functions';
import { provePatch, ChangedFunctionRef, PatchProof } from './patch-proof';
import { closuresToLeave, withoutAddresses } from './closure-identity';
import type { ProblemBoard } from './problem-board';
import type { SourceFiles } from './source-files';
import type { StatusBoard } from './status-board';
import { actionHint, SessionObserver } from './observer';
import type { Settings } from './settings';
import type { SpeculationOutcome } from './speculation';
import type { PatchResult } from '../engine';
import type { CompiledLayoutsVerdict } from './compiled-layouts';
import { withRenamedInstances } from './state-migration';
import type { MigratingVerdict, StateMigration } from './state-migration';
import type { RsxHotReload } from './rsx-hot-reload';

export interface PatchPipelineDeps {
  lifecycle: AppLifecycle;
  files: SourceFiles;
  problems: ProblemBoard;
  status: StatusBoard;
  observer: SessionObserver;
  settings: () => Settings;
  workspace: () => WorkspaceModel | undefined;
  /**
   * Judges a file's disk content that no save event brought (so the verdict always covers
   * exactly what gets built).
   */
  judgeUnannounced: (file: string, text: string) => void;
  /** Which crates a changed file rebuilds, which files are not part of the app. */
  buildInputs: BuildInputs;
  /** A thin build may have read new files (a new include_str!): watch them. */
  watchBuildInputs: () => void;
  /** Analysis time of the save that triggered the pending patch (ms). */
  lastAnalysisMs: () => number;
  /** Functions whose code differs from what the app's fat build compiled, in the app's crates. */
  changedFunctions: (app: RunningApp) => ChangedFunctionRef[];
  /** Which changed functions the app runs (per-function lenses). */
  liveFunctions: LiveFunctions;
  /** Findings of these files that say patched code is not reached by values made before the patch. */
  unreachableNotes: (files: string[], detoured: boolean) => string[];
  /** The patch built before the save from the same text, if there is one (speculation.ts). */
  takeSpeculation: (app: RunningApp, fingerprints: Map<string, string>, crates: Iterable<string>) => Promise<SpeculationOutcome>;
  /** Waits briefly when only some of the speculated files are saved yet (a "save all" in progress). */
  awaitRestOfSave: () => Promise<void>;
  /** The layout gate's verdict on a built patch: the compiler's layouts against the running app's. */
  checkLayouts: (app: RunningApp, result: Extract<PatchResult, { ok: true }>, files: string[]) => Promise<MigratingVerdict>;
  /** HotState values a patch migrates instead of requiring a restart (state-migration.ts). */
  migration: StateMigration;
  /**
   * A save blocked by these restart findings (`files` differ from what the app runs): the
   * compiler's layouts of the types they name are compared in the background, on a build never
   * sent (source-layout-check.ts).
   */
  blockedBySource?: (app: RunningApp, blocking: ReturnType<ProblemBoard['restartFindings']>, files: string[]) => void;
  /** rsx! template updates of a Dioxus app, sent instead of a build when they carry the whole change. */
  rsx?: RsxHotReload;
}

/** At most this many function names in a status line. */
const NAMES_SHOWN = 5;

function listNames(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

export class PatchPipeline {
  constructor(private readonly deps: PatchPipelineDeps) {}

  /** Files whose code differs from what the app runs, with the fingerprints read from disk. */
  changedSinceLive(app: RunningApp, texts?: Map<string, string>): { files: string[]; fingerprints: Map<string, string> } {
    const fingerprints = this.deps.files.fingerprints(texts);
    const files = [...fingerprints].filter(([f, fp]) => app.liveFingerprints.get(f) !== fp).map(([f]) => f);
    return { files, fingerprints };
  }

  async patchOnce(explicit: boolean, saveTime: number): Promise<PatchAttempt> {
    const { lifecycle, files: sources, problems, status, observer } = this.deps;
    const app = lifecycle.app;
    if (!app) return { ok: false, message: `no app is running: ${actionHint(observer, 'start')} to start it`, settled: false };
    if (lifecycle.restarting) return { ok: false, message: 'a restart is building the new binary; it will contain this save', settled: false };
    if (app.aslrReference === undefined) {
      if (status.appState === 'starting') {
        const message = 'waiting for the app to connect; the save will be patched once it has';
        status.set(undefined, undefined, message);
        return { ok: true, message, settled: false };
      }
      const message = 'the app has not connected to the devserver, so it cannot be patched';
      status.set(undefined, 'failed', message);
      return { ok: false, message, settled: false };
    }
    await this.deps.awaitRestOfSave();
    this.deps.migration.retrying(app); // a failed migration is said until the next attempt
    const texts = new Map<string, string>();
    const { files, fingerprints } = this.changedSinceLive(app, texts);
    // The verdict must cover what is built: judge content no save event brought.
    for (const f of files) {
      const text = texts.get(f);
      if (text !== undefined && !sources.isLastSeen(f, text)) this.deps.judgeUnannounced(f, text);
    }
    const blocking = problems.restartFindings();
    if (blocking.length > 0) {
      const first = blocking[0];
      const message =
        `patch blocked: ${blocking.length} change${blocking.length > 1 ? 's' : ''} require${blocking.length > 1 ? '' : 's'} a restart ` +
        `(${first.item}: ${first.code}); ${actionHint(observer, 'restart')} to apply`;
      status.set(undefined, 'blocked', message);
      this.deps.blockedBySource?.(app, blocking, files);
      return { ok: false, message, settled: false };
    }
    // A Dioxus app takes a change of rsx! statics as templates, with no build (as dx serve does);
    // the patch command always builds (it is asked for the whole pending change as code).
    if (this.deps.rsx && !explicit) {
      const plan = this.deps.rsx.plan(app, files, (f) => texts.get(f) ?? sources.currentText(f));
      if (plan.kind !== 'build') return this.deps.rsx.apply(app, plan, saveTime);
      if (files.length > 0 && plan.kind === 'build' && plan.dioxus) observer.log('info', `not an rsx! template update (a build carries it): ${plan.reason}`);
    }
    if (files.length === 0) {
      const message = explicit ? 'nothing to patch: the code the app runs is up to date' : 'saved: no code change to patch (comments or formatting only)';
      status.set(undefined, 'unchanged', message);
      return { ok: true, message, settled: true };
    }
    const outside = this.deps.buildInputs.outsideApp(files, app.bin); // another bin, a test, an example
    if (outside.length === files.length) {
      app.liveFingerprints = fingerprints;
      const message = `saved: ${outside.map((f) => path.basename(f)).join(', ')} ${outside.length > 1 ? 'are' : 'is'} not part of ${app.bin.binName}; nothing to patch`;
      status.set(undefined, 'unchanged', message);
      return { ok: true, message, settled: true };
    }
    // A package's lib is a crate of its own (replayed before the bin); data files rebuild their crate.
    const crates = new Set(this.deps.buildInputs.cratesToRebuild(files, app.bin));
    const built = await this.build(app, files, crates, fingerprints);
    const result = built.result;
    if (lifecycle.app !== app) {
      const message = 'the app exited or restarted during the patch build; the patch was discarded';
      observer.log('warn', message);
      return { ok: false, message, settled: false };
    }
    if (!result.ok) {
      problems.setBuildProblems(result.diagnostics);
      const message = `patch build failed (${result.stage}): ${result.message}. The app keeps running its previous code.`;
      // As dx does: HotPatchStart went out, and a Dioxus window shows its "Hot-patching…" toast
      // until told otherwise.
      lifecycle.devServer?.broadcast('FullReloadFailed');
      status.set(undefined, 'failed', message);
      if (result.diagnostics.length === 0) observer.notify('error', message);
      return { ok: false, message, settled: false };
    }
    // rustc read the sources after the verdict: a save in between may be compiled in unjudged (a
    // layout change, say). Such a build is never sent; the newest state is judged and built again.
    const now = sources.fingerprints();
    const newer = [...new Set([...now.keys(), ...fingerprints.keys()])].filter((f) => now.get(f) !== fingerprints.get(f));
    if (newer.length > 0) {
      const message = `a newer save arrived during the patch build (${newer.map((f) => path.basename(f)).join(', ')}): building again, so that the patch holds only judged code`;
      observer.log('info', message);
      return { ok: true, message, settled: true };
    }
    problems.setBuildProblems([]);
    this.deps.buildInputs.rebuilt(result.crates); // a new include_str! is a new input
    this.deps.watchBuildInputs();
    // The compiler's word on layouts: a type the patch's code was compiled against whose layout
    // differs from the running executable's blocks it, whatever the source verdict said. A gate
    // that cannot verify (no types in the debug info) leaves the source verdict alone and says so.
    const layouts = await this.deps.checkLayouts(app, result, files);
    if (lifecycle.app !== app) {
      const message = 'the app exited or restarted during the patch build; the patch was discarded';
      observer.log('warn', message);
      return { ok: false, message, settled: false };
    }
    problems.setCompiledLayouts(app, layouts.findings, files);
    problems.publish();
    if (layouts.findings.length > 0) {
      app.builder.rebuildNextTime(result.crates); // what they hold now was never sent
      const [first, ...rest] = layouts.summaries;
      const more = rest.length ? ` and ${rest.length} more type${rest.length > 1 ? 's' : ''}` : '';
      const message =
        `patch blocked: the compiled layout differs from the running app's (${first})${more}; nothing was sent, the app keeps running its previous code; ` +
        `${actionHint(observer, 'restart')} to apply`;
      status.set(undefined, 'blocked', message);
      return { ok: false, message, settled: false };
    }
    const macros = this.judgeProcMacros(app, result, files, layouts);
    if (!macros.ok) {
      app.builder.rebuildNextTime(result.crates); // what they hold now was never sent
      problems.publish();
      const message =
        `patch blocked: ${macros.reason}; a proc-macro edit is patched only when every crate using it is rebuilt and the compiler verified their layouts. ` +
        `Nothing was sent, the app keeps running its previous code; ${actionHint(observer, 'restart')} to apply`;
      status.set(undefined, 'blocked', message);
      return { ok: false, message, settled: false };
    }
    if (layouts.refused) {
      app.builder.rebuildNextTime(result.crates); // what they hold now was never sent
      const message = `patch blocked: ${layouts.refused}; nothing was sent, the app keeps running its previous code`;
      status.set(undefined, 'blocked', message);
      return { ok: false, message, settled: false };
    }
    if (!layouts.verdict.verified) observer.log('warn', `${layouts.claim}: the source verdict stands alone for this patch`);
    const migrate = layouts.migrate;
    if (migrate) observer.log('info', `the patch migrates HotState values: ${[...migrate.descriptions.values()].join('; ')}`);
    // Legacy names: the functions the migration renamed, matched by state-migration.ts, join the table.
    const carried = withRenamedInstances(result, layouts.renamed);
    if (layouts.renamed?.length) observer.log('info', `legacy symbol names: ${layouts.renamed.length} functions renamed by the layout change matched through their DWARF instance names (${layouts.renamed.slice(0, 4).map((p) => p.instance).join(', ')}${layouts.renamed.length > 4 ? ', …' : ''})`);
    // Proof before the claim: every changed function the app runs must be in the jump table.
    const changed = this.deps.changedFunctions(app);
    const proof = provePatch(changed, {
      fat: app.build.symbols.functionNames(),
      mapped: carried.functions.mapped,
      defined: result.functions.defined,
      rebuiltCrates: result.carriedCrates,
    });
    if (proof.missing.length > 0) {
      const first = proof.missing[0];
      const more = proof.missing.length > 1 ? ` (and ${listNames(proof.missing.slice(1).map((m) => m.name))})` : '';
      const message =
        `${first.name} changed but is not in the patch: ${first.reason}${more}. Nothing was sent; the app keeps running its previous code. ` +
        'Restart the app to run the change.';
      lifecycle.devServer?.broadcast('FullReloadFailed'); // ends a Dioxus window's "Hot-patching…" toast
      status.set(undefined, 'failed', message);
      observer.notify('error', message);
      return { ok: false, message, settled: false };
    }
    // A closure's name may now be another closure's: those entries are not patched (closure-identity.ts).
    const left = closuresToLeave(changed, app.build.symbols);
    const sent = withoutAddresses(carried.jumpTable, result.detourPlan, left.addresses);
    const closureNote = left.functions.length
      ? `closures of ${listNames(left.functions)} were added, removed or reordered: closures made before the patch keep their old code`
      : '';
    if (closureNote) observer.log('info', `${closureNote} (${left.addresses.size} entr${left.addresses.size === 1 ? 'y' : 'ies'} left out)`);
    const t = result.timings;
    observer.log(
      'info',
      `patch ${path.basename(result.soPath)}${built.prepared ? ' (prepared before the save)' : ''}: rustc ${t.rustcMs} ms, objects ${t.objectsMs} ms, stub ${t.stubMs} ms, link ${t.linkMs} ms, jump table ${t.jumpTableMs} ms (${Object.keys(carried.jumpTable.map).length} entries)`,
    );
    for (const note of result.notes) observer.log('warn', note);
    const relayStart = Date.now();
    let delivery;
    app.patchSentAt = relayStart;
    try {
      delivery = await lifecycle.devServer!.sendPatch(app.pid, sent.table, {
        msElapsed: Date.now() - saveTime,
        expectedAslrReference: app.aslrReference,
        ackTimeoutMs: this.deps.settings().patchAckTimeoutMs,
        // Entries of functions whose signature changed keep their code: old callers pass old arguments.
        detourPlan: this.deps.settings().detours
          ? {
              entries: sent.plan.entries,
              unchanged: sent.plan.unchanged,
              keep: keepListFor(
                sent.plan,
                changed.filter((c) => c.fn.kind === 'signature').map((c) => ({ name: c.fn.name, selfBase: c.fn.selfBase })),
              ),
            }
          : undefined,
        // The HotState values this patch's layout changes migrate (state-migration.ts).
        migrate: migrate?.types,
      });
    } catch (err) {
      app.patchSentAt = undefined;
      app.builder.settleDetours(sent.plan, undefined);
      const message = `patch not delivered: ${(err as Error).message}`;
      status.set(undefined, 'failed', message);
      return { ok: false, message, settled: false };
    }
    // Answered: applied or refused. Unanswered, it may run: a crash from now on names it.
    if (delivery.acked || delivery.outcome === 'plain-client') app.patchSentAt = undefined;
    const relayMs = Date.now() - relayStart;
    app.builder.settleDetours(sent.plan, delivery.acked && delivery.ok ? detouredByReport(delivery.detours) : undefined);
    if (!delivery.acked && delivery.outcome !== 'plain-client') {
      // Sent into the void (no answer, a failed write, the app gone): the app may or may not run
      // the new code, so nothing is counted as live and the next save patches everything again.
      const message = `the patch was not confirmed: ${delivery.reason}`;
      status.set(undefined, 'failed', message);
      observer.notify('warn', message);
      return { ok: false, message, settled: false };
    }
    if (delivery.acked && !delivery.ok) {
      if (migrate) {
        this.deps.migration.failed(app, migrate, delivery.error ?? 'unknown error');
        problems.publish();
      }
      const message = `the app could not apply the patch: ${delivery.error ?? 'unknown error'}. It keeps running its previous code.`;
      status.set(undefined, 'failed', message);
      observer.notify('error', message);
      return { ok: false, message, settled: false };
    }
    let migrated = '';
    if (migrate) {
      const done = delivery.acked ? delivery.migrated ?? [] : [];
      const missing = migrate.types.filter((t) => !done.includes(t));
      if (missing.length > 0) {
        // Applied without the migration it needs: the new code runs on values of the old layout.
        const message = `the app applied the patch but did not migrate ${missing.join(', ')}: its values do not have the layout the new code expects. Restart the app now.`;
        status.set(undefined, 'failed', message);
        observer.notify('error', message);
        return { ok: false, message, settled: false };
      }
      this.deps.migration.confirmed(app, migrate, layouts.migrateChanges ?? []);
      problems.publish();
      migrated = `; state migrated: ${[...migrate.descriptions.values()].join('; ')}`;
    }
    app.lastPatchAt = Date.now();
    app.liveFingerprints = fingerprints;
    this.deps.rsx?.patched(app, (f) => texts.get(f) ?? sources.currentText(f));
    const totalMs = Date.now() - saveTime;
    const applyMs = delivery.acked ? (delivery.applyMicros ?? 0) / 1000 : 0;
    const patchNumber = status.patchApplied({
      totalMs,
      analysisMs: Math.round(this.deps.lastAnalysisMs() * 100) / 100,
      rustcMs: t.rustcMs,
      objectsMs: t.objectsMs,
      stubMs: t.stubMs,
      linkMs: t.linkMs,
      jumpTableMs: t.jumpTableMs,
      relayMs: Math.max(0, relayMs - applyMs),
      applyMs,
      prepared: built.prepared,
    }, delivery.acked);
    // Unproven, the patch is not called a success: what runs now is not known.
    const unverified = !proof.verified && changed.length > 0;
    // Per-function lenses: only an agent's answer proves the functions run ("live"); a dx client
    // never says, so what it was sent is "sent"; and only functions the proof found in the jump table.
    if (!unverified) {
      for (const file of new Set(changed.map((c) => c.fn.file))) {
        const text = sources.currentText(file);
        // Only the code the patch was built from went live: a file saved again while the patch
        // was relayed and applied (a second on a slow machine) keeps its functions pending.
        if (text === undefined || fingerprintOf(file, text) !== fingerprints.get(file)) continue;
        const fns = changed.filter((c) => c.fn.file === file).map((c) => c.fn);
        this.deps.liveFunctions.recordPatch(app.pid, file, text, fns, patchNumber, totalMs, delivery.acked);
      }
    }
    // A plain dioxus-devtools client never answers: say so plainly rather than relaying the
    // devserver's technical reason, which reads like a failure.
    const how = delivery.acked
      ? `applied in ${((delivery.applyMicros ?? 0) / 1000).toFixed(1)} ms`
      : 'sent to a dx-compatible client, which does not report back';
    // A live edit's file is patched from its buffer: the file on disk still holds what was saved.
    const unsaved = sources.overlays();
    const names = files
      .filter((f) => !outside.includes(f))
      .map((f) => `${path.basename(f)}${unsaved.has(f) ? ' (unsaved)' : ''}`)
      .join(', ');
    const detoured = delivery.acked && delivery.detours !== undefined && delivery.detours.error === undefined;
    const head = unverified ? `patch applied to ${names}, not verified,` : `⚡ patched ${names}`;
    const message =
      `${head} in ${totalMs} ms (${built.prepared ? 'prepared before the save; ' : built.missed ? `built after the save: ${built.missed}; ` : ''}${how}; relay ${relayMs} ms; ${this.describeDetours(delivery)}; ${layouts.claim}${macros.note}${migrated})` +
      `${describeProof(proof, changed, files, delivery.acked)}${this.unreachable(files, detoured)}${closureNote ? `; ${closureNote}` : ''}`;
    status.set(undefined, 'applied', message);
    if (unverified) observer.notify('warn', message);
    return { ok: true, message, settled: true };
  }

  /**
   * The patch for the current state: the one prepared before the save when its text is what was
   * saved; else a build, from the live-edit buffers when some stand for their files.
   */
  private async build(app: RunningApp, files: string[], crates: Set<string>, fingerprints: Map<string, string>): Promise<{ result: PatchResult; prepared: boolean; missed?: string }> {
    const { lifecycle, files: sources, status, observer } = this.deps;
    const aslrReference = app.aslrReference!;
    lifecycle.devServer?.broadcast('HotPatchStart');
    const speculation = await this.deps.takeSpeculation(app, fingerprints, crates);
    let missed = speculation.missed;
    if (speculation.prepared) {
      missed = 'it was out of date (the engine log says why)';
      let committed;
      try {
        committed = app.builder.commit(speculation.prepared);
      } catch (err) {
        observer.log('warn', `the patch prepared before the save could not be used (${(err as Error).message}); building it again`);
      }
      if (committed) return { result: committed, prepared: true };
    }
    status.set(undefined, 'building', `building patch for ${files.map((f) => path.basename(f)).join(', ')}…`);
    const progress = observer.beginProgress('subsecond: patching');
    try {
      progress.report(`rustc ${[...crates, app.bin.crateName].join(', ')}`);
      const overlays = sources.overlays();
      if (overlays.size === 0) return { result: await app.builder.build({ changedCrates: [...crates], aslrReference }), prepared: false, missed };
      // Live edits: the buffers standing for their files are compiled in place of the disk's text.
      const p = await app.builder.prepare({ changedCrates: [...crates], aslrReference, overlays });
      if (!p.ok) return { result: p.result, prepared: false };
      const committed = app.builder.commit(p);
      return committed
        ? { result: committed, prepared: false }
        : { result: { ok: false, stage: 'setup', message: 'the live-edit build was overtaken by another build', diagnostics: [] }, prepared: false };
    } finally {
      progress.done();
    }
  }

  /**
   * A patch that carries edits of proc-macro crates (their records replayed, engine/thin-build.ts)
   * may go only when the gate can vouch for what they expand to: the compiled layouts were
   * verified, and every crate of the app that uses the macro was rebuilt with it (an old
   * expansion left in a crate that was not rebuilt would disagree with the new one). Otherwise
   * the edits become `proc-macro-changed` restart findings again until the next full build.
   */
  private judgeProcMacros(
    app: RunningApp,
    result: Extract<PatchResult, { ok: true }>,
    files: string[],
    layouts: CompiledLayoutsVerdict,
  ): { ok: true; note: string } | { ok: false; reason: string } {
    const inputs = this.deps.buildInputs;
    const edited = files.filter((f) => inputs.isProcMacroInput(f));
    const macros = result.crates.filter((c) => app.build.records[`${c}.proc-macro`]);
    if (edited.length === 0 || macros.length === 0) return { ok: true, note: '' };
    const rebuilt = new Set(result.crates);
    const users = (m: string) =>
      Object.entries(app.build.workspaceCrates)
        .filter(([c, deps]) => deps.includes(m) && (app.build.records[`${c}.lib`] || app.build.records[`${c}.bin`]))
        .map(([c]) => c);
    const notRebuilt = macros.flatMap((m) => users(m).filter((c) => !rebuilt.has(c)).map((c) => `\`${c}\` (uses \`${m}\`)`));
    let reason: string | undefined;
    if (!layouts.verdict.verified) reason = `the layouts of the macro's expansion could not be verified (${layouts.claim})`;
    else if (notRebuilt.length) reason = `${notRebuilt.join(', ')} ${notRebuilt.length > 1 ? 'were' : 'was'} not rebuilt`;
    if (reason !== undefined) {
      inputs.procMacroEditsUngated(edited, reason);
      return { ok: false, reason: `${macros.map((m) => `\`${m}\``).join(', ')}: proc-macro-changed, ${reason}` };
    }
    const using = [...new Set(macros.flatMap(users))].map((c) => `\`${c}\``).join(', ');
    return { ok: true, note: `; proc-macro ${macros.map((m) => `\`${m}\``).join(', ')} re-expanded: every crate using it (${using || 'none'}) rebuilt` };
  }

  /** Which semantics apply to the patch just delivered: entry detours or the jump table alone. */
  private describeDetours(delivery: { acked: boolean; detours?: DetourReport }): string {
    const { observer } = this.deps;
    if (!delivery.acked) return 'jump table only: the client has no subsecond-agent';
    if (!this.deps.settings().detours) return 'jump table only: detours are off';
    const d = delivery.detours;
    if (!d) return 'jump table only: the agent does not detour';
    if (d.error) observer.log('warn', `entry detours failed: ${d.error}`);
    if (d.islandsAllocated) observer.log('info', `entry detours: ${d.islandsAllocated} new island(s) of 16 bytes`);
    if (d.skippedTotal > 0) {
      const listed = d.skipped.slice(0, 20).map((x) => `${x.name} (${x.reason})`).join(', ');
      observer.log('info', `${d.skippedTotal} function(s) left to the jump table: ${listed}${d.skippedTotal > 20 ? ', …' : ''}`);
    }
    if (d.error) return `jump table only: detours failed (${d.error})`;
    const skipped = d.skippedTotal ? `, ${d.skippedTotal} left to the jump table` : '';
    // An agent that reports `unchanged` was told which functions' code changed: the count is theirs.
    if (d.unchanged === undefined) return `${d.detoured} function${d.detoured === 1 ? '' : 's'} of the rebuilt crates detoured${skipped}`;
    return `${d.detoured} changed function${d.detoured === 1 ? '' : 's'} detoured${skipped}`;
  }

  private unreachable(files: string[], detoured: boolean): string {
    const notes = this.deps.unreachableNotes(files, detoured);
    if (notes.length === 0) return '';
    return `; but ${listNames(notes)} ${notes.length > 1 ? 'are' : 'is'} reached through values made before the patch, which run the old code (see the info note)`;
  }
}

/** What went live, for the status line: the changed functions of the files this patch changed. */
function describeProof(proof: PatchProof, changed: ChangedFunctionRef[], files: string[], confirmed: boolean): string {
  if (!proof.verified) {
    return changed.length > 0
      ? ` — the changed functions may still run their old code: ${proof.unverifiedReason ?? 'the symbol names could not be read'}; restart the app to be sure it runs them`
      : '';
  }
  const inThisPatch = new Set(changed.filter((c) => files.includes(c.fn.file)).map((c) => `\`${c.fn.item}\``));
  const pick = (list: string[]) => list.filter((n) => inThisPatch.has(n));
  const parts: string[] = [];
  const live = pick(proof.live);
  // Only an agent's answer proves the app runs it; a dx-compatible client never says.
  if (live.length) parts.push(`${confirmed ? 'live' : 'in the patch'}: ${listNames(live)}`);
  const inCallers = pick(proof.inCallers);
  if (inCallers.length) parts.push(`${listNames(inCallers)} ${inCallers.length > 1 ? 'have' : 'has'} no code of its own in the app (inlined or generic): the patched callers carry it`);
  const noCode = pick(proof.noCode);
  if (noCode.length) parts.push(`${listNames(noCode)} ${noCode.length > 1 ? 'have' : 'has'} no code in the app or the patch (a generic never instantiated, inlined only, compiled out or unused)`);
  return parts.length ? ` — ${parts.join('; ')}` : '';
}
