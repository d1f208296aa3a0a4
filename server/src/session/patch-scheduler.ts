// Patch scheduling: saves during a build are coalesced (the newest disk state wins), and nothing
// saved is left unpatched without a word. After every build, and once the saves have settled,
// the disk is compared with what the app runs: a change that no event announced (a file watcher
// drops a second change within ~50 ms; a first save may build nothing) is patched too.
// It decides when to patch, never what a patch contains.
import type { CommandResult } from './app-lifecycle';

export interface PatchAttempt extends CommandResult {
  /**
   * The attempt saw the disk through: the app now runs what was on disk when it started
   * (patched, or nothing to patch). Only then is a later difference a new, unpatched change;
   * a blocked or failed attempt has already said why the app does not run the disk's code.
   */
  settled: boolean;
}

export interface PatchSchedulerDeps {
  /** One attempt at patching the disk's current state; `savedAt` is when its first save arrived. */
  patchOnce: (explicit: boolean, savedAt: number) => Promise<PatchAttempt>;
  /** May saves be patched automatically now (an app runs, autoPatch on)? */
  autoPatchAllowed: () => boolean;
  /** Does the disk hold code the app does not run? */
  diskDiffersFromLive: () => boolean;
  /** Quiet time after the last save before the disk is checked again (ms). */
  settleMs?: number;
}

/** Extra rounds a single run makes for changes no event announced (a bound, not a schedule). */
const MAX_CATCH_UP_ROUNDS = 3;

export class PatchScheduler {
  private running = false;
  private pending = false;
  private pendingSince: number | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly deps: PatchSchedulerDeps) {}

  /** Is a patch build running now? */
  get busy(): boolean {
    return this.running;
  }

  /** A save arrived at `savedAt`: patch it now, or after the running build. */
  schedule(savedAt: number): void {
    if (this.disposed || !this.deps.autoPatchAllowed()) return;
    this.pendingSince ??= savedAt;
    this.armSettleCheck();
    if (this.running) {
      this.pending = true; // the running build loops once more with the newest state
      return;
    }
    void this.run(false);
  }

  /** Patches now; while a build runs, the newest state is patched right after it. */
  async run(explicit: boolean): Promise<CommandResult> {
    if (this.running) {
      this.pending = true;
      return { ok: true, message: 'a patch build is running; the newest state will be patched after it' };
    }
    this.running = true;
    let last: PatchAttempt = { ok: true, message: 'nothing to patch', settled: true };
    let catchUp = 0;
    try {
      for (;;) {
        this.pending = false;
        const savedAt = this.pendingSince ?? Date.now();
        this.pendingSince = undefined;
        last = await this.deps.patchOnce(explicit, savedAt);
        if (this.disposed) break;
        if (this.pending && this.deps.autoPatchAllowed()) continue;
        // A change that arrived unannounced while this attempt ran (or just before it).
        if (last.settled && catchUp < MAX_CATCH_UP_ROUNDS && this.deps.autoPatchAllowed() && this.deps.diskDiffersFromLive()) {
          catchUp++;
          continue;
        }
        break;
      }
    } finally {
      this.running = false;
      this.pendingSince = undefined;
    }
    return last;
  }

  /** Once saves have been quiet for a moment, look at the disk again (see the module comment). */
  private armSettleCheck(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      if (this.disposed || this.running || !this.deps.autoPatchAllowed()) return;
      if (this.deps.diskDiffersFromLive()) void this.run(false);
    }, this.deps.settleMs ?? 150);
    this.settleTimer.unref?.();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.settleTimer);
  }
}
