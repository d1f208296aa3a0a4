// Problems and findings: what each file shows right now (the analysis' findings against the
// running app's baseline, plus the rustc errors of the last failed build), and which findings
// block a patch. It publishes changes to the observer and never decides when to judge or build.
import type { Finding, PatchabilityAnalyzer } from '../analysis';
import type { RustcDiagnostic } from '../engine';
import { rustcDiagnosticsToProblems } from './rustc-diagnostics';
import type { BuildInputFinding, BuildInputs } from './build-inputs';
import type { Problem, SessionObserver } from './observer';

export class ProblemBoard {
  /** Rustc errors of the last failed build, per file. */
  private buildProblems = new Map<string, Problem[]>();
  /** Files whose problems were last published, so cleared files get an empty list. */
  private published = new Set<string>();
  /**
   * Findings on unsaved text (an editor buffer that differs from the disk), shown on that file
   * instead of the saved text's: the editor shows the buffer. Never what blocks a patch, which is
   * always judged on what gets built.
   */
  private previews = new Map<string, Finding[]>();
  /**
   * The layout gate's verdict on the last patch built (layout-gate/, session/compiled-layouts.ts),
   * for the app it was built for: its restart findings, and the files whose compiled layouts it
   * judged. Replaced by every gated build, forgotten per file when the file's text is judged
   * anew, shown only while that app runs.
   */
  private compiled: { app: object; findings: Finding[]; judged: Set<string> } | undefined;

  constructor(
    private readonly analyzer: PatchabilityAnalyzer,
    private readonly observer: SessionObserver,
    /** Called after every publication (the status shows the number of blocking findings). */
    private readonly onPublished: () => void,
    /** Restart findings about manifests, build scripts, proc-macros (build-inputs.ts). */
    private readonly buildInputs?: BuildInputs,
    /** Whether the running app's agent detours entries (then old values reach patched code). */
    private readonly detoursApply: () => boolean = () => false,
    /** Whether an unsaved buffer stands for the file (a live edit: the analysis judged the buffer). */
    private readonly isLiveEdit: (file: string) => boolean = () => false,
    /** The running app (compiled-layout verdicts belong to the app whose patch was gated). */
    private readonly runningApp: () => object | undefined = () => undefined,
    /** A source finding as it applies to the running app (a HotState type's layout change migrates: state-migration.ts). */
    private readonly rewrite: (f: Finding) => Finding = (f) => f,
    /** A saved text's source finding with what the compiler says of it (source-layout-check.ts); never a preview's. */
    private readonly compilerNote: (f: Finding) => Finding = (f) => f,
  ) {}

  /** The layout gate's verdict, if it is about the running app. */
  private compiledVerdict(): { findings: Finding[]; judged: Set<string> } | undefined {
    const c = this.compiled;
    return c && c.app === this.runningApp() ? c : undefined;
  }

  /**
   * Records the layout gate's verdict on a patch built for `app` from `judged` files: `findings`
   * (restart-class, `compiled-layout-changed`) replace the previous ones; the files' item-level
   * macro notes now say their compiled layouts were verified (or give way to the findings).
   */
  setCompiledLayouts(app: object, findings: Finding[], judged: string[]): void {
    const before = this.compiledVerdict();
    const kept = before ? [...before.judged].filter((f) => !judged.includes(f)) : [];
    this.compiled = { app, findings, judged: new Set([...kept, ...judged]) };
  }

  /** A file's text was judged anew: the gate has not seen it yet. */
  forgetCompiledVerdict(file: string): void {
    this.compiled?.judged.delete(file);
  }

  /** The layout gate's restart findings on the running app's last patch (they block until a build is gated clean). */
  compiledLayoutFindings(): Finding[] {
    return this.compiledVerdict()?.findings ?? [];
  }

  /**
   * A proc-macro crate's code runs inside rustc, never in the app: the analysis' findings about
   * the running app do not apply to it (what it generates is the layout gate's to judge).
   */
  private runsInRustc(file: string): boolean {
    return this.buildInputs?.isProcMacroInput(file) ?? false;
  }

  /** Everything to show on a file right now: findings and build errors. */
  problemsFor(file: string): Problem[] {
    const detours = this.detoursApply();
    const preview = this.previews.get(file);
    const unsaved = preview !== undefined || this.isLiveEdit(file);
    const compiled = this.compiledVerdict();
    const out: Problem[] = (this.runsInRustc(file) ? [] : (preview ?? this.analyzer.findingsFor(file)))
      .map((f) => this.rewrite(f))
      .filter((f) => !(detours && coveredByDetours(f)))
      .flatMap((f) => (preview ? [f] : withCompiledVerdict(this.compilerNote(f), compiled)))
      .concat(compiled?.findings.filter((f) => f.file === file) ?? [])
      .map(findingToProblem)
      // A restart builds what is saved: an unsaved change needs the save first.
      .map((p) => (unsaved && p.requiresRestart ? { ...p, message: `${p.message} (unsaved: save it, then restart)` } : p));
    out.push(...(this.buildInputs?.problemsFor(file) ?? []));
    out.push(...(this.buildProblems.get(file) ?? []));
    return out;
  }

  /** Files that currently have problems. */
  filesWithProblems(): string[] {
    const files = new Set<string>(this.buildProblems.keys());
    for (const [f, list] of this.analyzer.findings()) if (list.length && !this.previews.has(f) && !this.runsInRustc(f)) files.add(f);
    for (const [f, list] of this.previews) if (list.length && !this.runsInRustc(f)) files.add(f);
    for (const f of this.compiledVerdict()?.findings ?? []) files.add(f.file);
    for (const f of this.buildInputs?.filesWithFindings() ?? []) files.add(f);
    return [...files];
  }

  /** Findings that block a patch until the app restarts. */
  restartFindings(): Array<Finding | BuildInputFinding> {
    const out: Array<Finding | BuildInputFinding> = [];
    for (const [file, list] of this.analyzer.findings()) if (!this.runsInRustc(file)) for (const f of list.map((x) => this.rewrite(x))) if (f.severity === 'restart') out.push(f);
    out.push(...(this.buildInputs?.findings() ?? []));
    return out;
  }

  /** Tells the observer which files' problems may have changed (those that have or had some). */
  publish(): void {
    const now = new Set(this.filesWithProblems());
    const changed = new Set<string>([...now, ...this.published]);
    this.published = now;
    this.observer.problemsChanged([...changed]);
    this.onPublished();
  }

  /**
   * Shows `findings` (judged on the file's unsaved text) on the file; undefined goes back to the
   * saved text's. True when that changes what the file shows.
   */
  setPreview(file: string, findings: Finding[] | undefined): boolean {
    const before = this.previews.get(file);
    if (findings) this.previews.set(file, findings);
    else this.previews.delete(file);
    return before === undefined ? findings !== undefined : findings === undefined || JSON.stringify(before) !== JSON.stringify(findings);
  }

  /** Tells the observer that these files' problems may have changed (and nothing else). */
  publishFiles(files: string[]): void {
    if (files.length === 0) return;
    for (const f of files) {
      if (this.problemsFor(f).length) this.published.add(f);
      else this.published.delete(f);
    }
    this.observer.problemsChanged(files);
    this.onPublished();
  }

  /** Files showing findings of unsaved text. */
  previewedFiles(): string[] {
    return [...this.previews.keys()];
  }

  /** Replaces the build errors (an empty list clears them); `consequence` ends each message. */
  setBuildProblems(diags: RustcDiagnostic[], consequence?: string): void {
    const before = [...this.buildProblems.keys()];
    this.buildProblems = rustcDiagnosticsToProblems(diags, consequence);
    this.observer.problemsChanged([...new Set([...before, ...this.buildProblems.keys()])]);
  }
}

/**
 * Notes about code that values made before the patch cannot reach (old vtables, boxed closures,
 * stored fn pointers, one-capture hot closures): entry detours send those calls to the new code.
 * A system that already ran at startup is not re-run by any patch, so that note stays.
 */
export function coveredByDetours(f: Finding): boolean {
  if (f.code === 'hot-closure-never-patched') return true;
  return f.code === 'patched-code-unreachable' && !/already ran/.test(f.message);
}

/**
 * The compiler's verdict replaces the source analysis' "not judged" note on item-level macros:
 * where the gate compared the compiled layouts of a file's patch, the note says they match, or
 * gives way to the gate's findings.
 */
function withCompiledVerdict(f: Finding, compiled: { findings: Finding[]; judged: Set<string> } | undefined): Finding[] {
  if (f.code !== 'macro-items-not-judged' || !compiled || !compiled.judged.has(f.file)) return [f];
  if (compiled.findings.length > 0) return [];
  const macro = /^items generated by (`[^`]+`)/.exec(f.message)?.[1] ?? 'this macro';
  return [
    {
      ...f,
      message:
        `items generated by ${macro} were verified by the compiler: the patch's compiled layouts of the workspace's ` +
        "types match the running app's (the source analysis cannot see what the macro expands to)",
    },
  ];
}

function findingToProblem(f: Finding): Problem {
  return {
    file: f.file,
    range: f.range,
    itemRange: f.itemRange,
    // restart and warning both show as LSP warnings; only restart blocks patches and offers a restart
    severity: f.severity === 'info' ? 'info' : 'warning',
    code: f.code,
    message: f.message,
    related: f.related,
    requiresRestart: f.severity === 'restart',
  };
}
