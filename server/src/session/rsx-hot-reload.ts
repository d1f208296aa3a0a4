// rsx! template updates for Dioxus apps, as `dx serve` makes them: a save (or a live edit) whose
// every change is inside rsx! calls and is static (text, literal attributes, formatted-text
// segments) reaches the window as templates over the devserver, with no build. Anything else is
// left to the patch pipeline.
//
// Like dx (dioxus-cli 0.7.10, serve/runner.rs: its file map), it keeps per file the text the
// running code was compiled from — the fat build's, then each patch's — and diffs every new text
// against THAT text, never against the previous template update: the app's templates are keyed by
// where the rsx! calls start in the compiled text. It remembers the templates it sent per key and
// sends only those that differ (so an edit undone is sent back too). A hot patch compiles the
// current texts and the app's dioxus-core drops every template it was sent (the patched code has
// its own), so after a patch the texts become the baseline and the memory is cleared.
//
// A Dioxus devtools client does not answer: the claim is what was sent, never "patched".
import * as path from 'node:path';
import { dioxusAppOf, templateFileName, templateUpdatesProblem } from '../dioxus';
import { rsxTemplateUpdate, RsxTemplate, RsxTemplateOutcome, warmRsxTemplates } from '../support/rsx-templates';
import type { WorkspaceModel } from '../workspace/cargo-workspace';
import type { AppLifecycle, RunningApp } from './app-lifecycle';
import type { SessionObserver } from './observer';
import type { PatchAttempt } from './patch-scheduler';
import type { SourceFiles } from './source-files';
import type { StatusBoard } from './status-board';

export interface RsxHotReloadDeps {
  lifecycle: AppLifecycle;
  files: SourceFiles;
  status: StatusBoard;
  observer: SessionObserver;
  workspace: () => WorkspaceModel | undefined;
}

/** What a set of changed files means for templates. */
export type RsxPlan =
  /** Not a template update (another kind of app, code outside rsx!, a dynamic part, …): build. */
  | { kind: 'build'; reason: string; dioxus?: boolean }
  /** Only rsx! statics changed: these templates (not sent before) carry the change. */
  | { kind: 'templates'; send: RsxTemplate[]; files: string[] }
  /** Only rsx! statics changed, and the app was already sent exactly these templates. */
  | { kind: 'sent-already'; files: string[] };

interface AppTemplates {
  pid: number;
  /** The text each file's running code was compiled from. */
  built: Map<string, string>;
  /** Per file: template key (JSON) → the template (JSON) the app was last sent for it. */
  sent: Map<string, Map<string, string>>;
}

/** How many of the app's rsx! files are run through the module when it connects (a bound on that work). */
const WARM_FILES = 16;

export class RsxHotReload {
  private state: AppTemplates | undefined;
  /** Per file: the last question asked of the module and its answer (`templatesOf`). */
  private readonly lastOutcome = new Map<string, { built: string; text: string; key: string; out: RsxTemplateOutcome }>();

  constructor(private readonly deps: RsxHotReloadDeps) {}

  /** The app's template state, or why it gets no template updates. */
  private stateOf(app: RunningApp): AppTemplates | string {
    const ws = this.deps.workspace();
    if (!ws) return 'no workspace';
    const dioxus = dioxusAppOf(ws.workspaceRoot);
    if (!dioxus) return 'not a Dioxus app';
    const problem = templateUpdatesProblem(dioxus);
    if (problem) return problem;
    if (this.state?.pid !== app.pid) this.state = { pid: app.pid, built: new Map(app.builtTexts), sent: new Map() };
    return this.state;
  }

  /**
   * A Dioxus app connected: load the module now (tens of ms to compile and instantiate), off the
   * path of the first save, and run it once over each of the app's own rsx! files (the text
   * against itself), one per tick: the module compiles each function on its first call, and a
   * first save that parses a real file would otherwise pay tens of ms for that (measured with
   * the dioxus bench). A failure here is said on that save, not now.
   */
  appConnected(app: RunningApp): void {
    const state = this.stateOf(app);
    if (typeof state === 'string') return;
    const root = this.deps.workspace()?.workspaceRoot;
    const files = [...state.built].filter(([, text]) => text.includes('rsx!')).slice(0, WARM_FILES);
    const next = (i: number) =>
      setImmediate(() => {
        if (this.state !== state) return; // another app since
        try {
          if (i === 0) warmRsxTemplates();
          else {
            const [file, text] = files[i - 1];
            const key = root && templateFileName(root, file);
            if (key) rsxTemplateUpdate(text, text, key);
          }
        } catch {
          return; /* said when a save needs it */
        }
        if (i < files.length) next(i + 1);
      });
    next(0);
  }

  /**
   * What the change from the compiled texts to `texts` (the current text of each file, a live
   * edit's buffer included) means for templates. `changed` are the files whose code differs from
   * what the app runs; files the app was sent templates for are looked at too (an edit undone).
   */
  plan(app: RunningApp, changed: string[], texts: (file: string) => string | undefined): RsxPlan {
    const state = this.stateOf(app);
    if (typeof state === 'string') return { kind: 'build', reason: state };
    const build = (reason: string): RsxPlan => ({ kind: 'build', reason, dioxus: true });
    const ws = this.deps.workspace()!;
    const candidates = [...new Set([...changed, ...state.sent.keys()])];
    if (candidates.length === 0) return build('nothing changed');
    const send: RsxTemplate[] = [];
    const files: string[] = [];
    for (const f of candidates) {
      const name = path.basename(f);
      if (!f.endsWith('.rs')) return build(`${name} is not a Rust source`);
      const built = state.built.get(f);
      if (built === undefined) return build(`${name} was not part of the build`);
      const text = texts(f);
      if (text === undefined) return build(`${name} could not be read`);
      const key = templateFileName(ws.workspaceRoot, f);
      if (key === undefined) return build(`${name} is outside the workspace root`);
      let out;
      try {
        out = this.templatesOf(f, built, text, key);
      } catch (err) {
        this.deps.observer.log('warn', `rsx! templates of ${name}: ${(err as Error).message}`);
        return build(`the rsx-templates module failed on ${name}`);
      }
      if (out.kind === 'needsBuild') return build(`${name}: ${out.reason}`);
      const sentBefore = state.sent.get(f);
      // No rsx! call differs from the compiled text and none was ever sent: this file's change
      // (if any) is none of the templates' business.
      if (out.changedCalls === 0 && !sentBefore) {
        if (changed.includes(f)) return build(`${name}: no rsx! call changed`);
        continue;
      }
      files.push(f);
      for (const t of out.templates) {
        if (sentBefore?.get(JSON.stringify(t.key)) === JSON.stringify(t.template)) continue;
        send.push(t);
      }
    }
    if (files.length === 0) return build('no rsx! call changed');
    return send.length > 0 ? { kind: 'templates', send, files } : { kind: 'sent-already', files };
  }

  /**
   * The module's answer for one file, remembered for its last pair of texts: a save after a pause
   * asks again what the pause asked (speculation.ts), and after a template update the scheduler
   * asks whether it covers the disk (`covers`) while the window is applying it; neither should
   * parse the file again (a few ms of CPU each, taken from the app on a busy machine).
   */
  private templatesOf(file: string, built: string, text: string, key: string): RsxTemplateOutcome {
    const last = this.lastOutcome.get(file);
    if (last && last.built === built && last.text === text && last.key === key) return last.out;
    const out = rsxTemplateUpdate(built, text, key);
    this.lastOutcome.set(file, { built, text, key, out });
    return out;
  }

  /**
   * Would saving these buffers be a template update (so a speculative build is not needed)?
   * Only a plan with templates to send counts.
   */
  templateOnly(app: RunningApp, buffers: Map<string, string>, changed: string[]): boolean {
    const plan = this.plan(app, changed, (f) => buffers.get(f) ?? this.deps.files.currentText(f));
    return plan.kind !== 'build';
  }

  /** Has the app been sent templates that carry exactly these changes (nothing left to do)? */
  covers(app: RunningApp, changed: string[]): boolean {
    return this.plan(app, changed, (f) => this.deps.files.currentText(f)).kind === 'sent-already';
  }

  /** Sends a plan's templates and says what was sent. */
  apply(app: RunningApp, plan: Exclude<RsxPlan, { kind: 'build' }>, saveTime: number): PatchAttempt {
    const { lifecycle, status, observer, files: sources } = this.deps;
    const unsaved = sources.overlays();
    const names = plan.files.map((f) => `${path.basename(f)}${unsaved.has(f) ? ' (unsaved)' : ''}`).join(', ');
    if (plan.kind === 'sent-already') {
      const message = `saved: the rsx! of ${names} is as last sent to the window (no build)`;
      status.set(undefined, 'unchanged', message);
      return { ok: true, message, settled: true };
    }
    const state = this.state!;
    const sent = lifecycle.devServer?.sendTemplateReload(app.pid, plan.send) ?? false;
    if (!sent) {
      const message = `rsx! of ${names} changed but ${app.bin.binName} (pid ${app.pid}) is not connected: it shows after a restart`;
      status.set(undefined, 'failed', message);
      observer.notify('warn', message);
      return { ok: false, message, settled: false };
    }
    for (const t of plan.send) {
      const file = plan.files.find((f) => templateFileName(this.deps.workspace()!.workspaceRoot, f) === t.key.file);
      if (!file) continue;
      let memo = state.sent.get(file);
      if (!memo) state.sent.set(file, (memo = new Map()));
      memo.set(JSON.stringify(t.key), JSON.stringify(t.template));
    }
    const ms = Date.now() - saveTime;
    const n = plan.send.length;
    const message =
      `🔥 rsx! updated in ${names} in ${ms} ms: ${n} template${n === 1 ? '' : 's'} sent ` +
      '(no build; the window applies it, dioxus does not report back)';
    observer.log('info', `rsx! template update: ${plan.send.map((t) => `${t.key.file}:${t.key.line}:${t.key.column}#${t.key.index}`).join(', ')}`);
    status.set(undefined, 'unchanged', message);
    return { ok: true, message, settled: true };
  }

  /**
   * A patch went live: it was compiled from the current texts, and the app dropped the templates
   * it had been sent. `texts` gives a file's text as the patch compiled it.
   */
  patched(app: RunningApp, texts: (file: string) => string | undefined): void {
    const state = this.state;
    if (!state || state.pid !== app.pid) return;
    for (const f of this.deps.files.list()) {
      const t = texts(f);
      if (t !== undefined) state.built.set(f, t);
    }
    state.sent.clear();
  }
}
