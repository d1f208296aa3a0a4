// The session's one-line status and patch counters: what `subsecond.status` answers and what the
// `subsecond/status` notification carries. It only stores and emits; the lifecycle and the patch
// pipeline decide what to say.
import type { AppState, PatchOutcome, PatchState, PatchTimingBreakdown, SessionObserver, SessionStatus } from './observer';

const OUTCOMES: ReadonlySet<PatchState> = new Set<PatchOutcome>(['applied', 'blocked', 'failed']);

/** Facts the board does not own but every status snapshot shows. */
export interface StatusFacts {
  pid?: number;
  bin?: string;
  blockingFindings: number;
  appLog?: string;
}

export class StatusBoard {
  private app: AppState = 'stopped';
  private patch: PatchState = 'idle';
  private message = 'no app running';
  private patchesApplied = 0;
  private patchesUnconfirmed = 0;
  private lastPatchMs: number | undefined;
  private lastPatchTimings: PatchTimingBreakdown | undefined;

  constructor(
    private readonly observer: SessionObserver,
    private readonly facts: () => StatusFacts,
  ) {}

  get appState(): AppState {
    return this.app;
  }

  /** Sets the app state, the patch state (each left as is when undefined) and the message. */
  set(app: AppState | undefined, patch: PatchState | undefined, message: string): void {
    if (app) this.app = app;
    if (patch) this.patch = patch;
    this.message = message;
    this.emit();
    if (patch && OUTCOMES.has(patch)) this.observer.patchOutcome?.(patch as PatchOutcome, message);
  }

  /** A new app process runs: no patch has been applied to it yet. */
  newApp(): void {
    this.patchesApplied = 0;
    this.patchesUnconfirmed = 0;
    this.lastPatchMs = undefined;
    this.lastPatchTimings = undefined;
  }

  /** A patch the app confirmed (or, `confirmed` false, a dx-compatible client was sent). Returns its number. */
  patchApplied(timings: PatchTimingBreakdown, confirmed = true): number {
    this.patchesApplied++;
    if (!confirmed) this.patchesUnconfirmed++;
    this.lastPatchMs = timings.totalMs;
    this.lastPatchTimings = timings;
    return this.patchesApplied;
  }

  snapshot(): SessionStatus {
    const facts = this.facts();
    return {
      app: this.app,
      pid: facts.pid,
      bin: facts.bin,
      patch: this.patch,
      patchesApplied: this.patchesApplied,
      ...(this.patchesUnconfirmed ? { patchesUnconfirmed: this.patchesUnconfirmed } : {}),
      lastPatchMs: this.lastPatchMs,
      lastPatchTimings: this.lastPatchTimings,
      blockingFindings: facts.blockingFindings,
      message: this.message,
      appLog: facts.appLog,
    };
  }

  emit(): void {
    this.observer.statusChanged(this.snapshot());
  }
}
