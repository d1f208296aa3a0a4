// What a session tells the outside world (an editor through the LSP layer, or the terminal).
// Plain data only: the session never knows which front end is listening.
import type { SourceRange, RelatedLocation } from '../analysis';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** One problem to show on a file: a patchability finding or a patch-build error. */
export interface Problem {
  file: string;
  range: SourceRange;
  /** The whole item a restart-class finding concerns (where "Restart app to apply" is offered). */
  itemRange?: SourceRange;
  severity: 'error' | 'warning' | 'info';
  /** Catalog code (`struct-layout-changed`...) or `patch-build-error`. */
  code: string;
  message: string;
  related?: RelatedLocation[];
  /** The app must restart for this change to apply (offer "Restart app to apply"). */
  requiresRestart: boolean;
}

/** A function whose code differs from what the app was started with, and where it stands. */
export interface FunctionStatus {
  /** As findings name it: `ui::Panel::draw`. */
  name: string;
  /** The whole function. */
  range: SourceRange;
  /**
   * pending: saved but not live; live: its current text runs (patch `patch`, `ms` save → live),
   * as the app's agent confirmed; sent: its current text went out in patch `patch` to a client
   * that does not report back (Dioxus' devtools client), so whether it runs is not known;
   * restart: only a restart applies it.
   */
  state: 'pending' | 'live' | 'sent' | 'restart';
  /** A Dioxus component (`#[component]`, or a function returning `Element`). */
  component?: boolean;
  patch?: number;
  ms?: number;
}

export type AppState = 'stopped' | 'building' | 'starting' | 'running' | 'crashed';
export type PatchState = 'idle' | 'building' | 'blocked' | 'failed' | 'applied' | 'unchanged';
/** The patch states that end an attempt with something the user must learn. */
export type PatchOutcome = Extract<PatchState, 'applied' | 'blocked' | 'failed'>;

export interface PatchTimingBreakdown {
  totalMs: number;
  analysisMs: number;
  rustcMs: number;
  objectsMs: number;
  stubMs: number;
  linkMs: number;
  jumpTableMs: number;
  /** Sending the table until the agent's answer arrived, minus the agent's own apply time. */
  relayMs: number;
  applyMs: number;
  /** The patch was built before the save, from the same text (its rustc and link times were spent then). */
  prepared?: boolean;
}

export interface SessionStatus {
  app: AppState;
  pid?: number;
  bin?: string;
  patch: PatchState;
  /** Patches applied to the running app (including those sent to a client that does not report back). */
  patchesApplied: number;
  /** Of those, the patches sent to a client that does not report back (Dioxus' devtools client): applied is not known. */
  patchesUnconfirmed?: number;
  /** Save → patch applied, for the last successful patch. */
  lastPatchMs?: number;
  /** Where the time of the last successful patch went (ms), save → the agent's answer. */
  lastPatchTimings?: PatchTimingBreakdown;
  /** Restart-class findings currently blocking patches. */
  blockingFindings: number;
  /** One line for a status bar or a code lens. */
  message: string;
  /** The log file of the current (or last) app launch: its output, starts and exits. */
  appLog?: string;
}

export interface ProgressHandle {
  report(message: string, percentage?: number): void;
  done(): void;
}

/**
 * What the user can do; each front end says how (a command, a key, a signal), as an imperative
 * phrase ("run \"subsecond.restartApp\"", "press r"). `terminal`: give the app a terminal.
 */
export type UserAction = 'start' | 'restart' | 'stop' | 'patch' | 'quit' | 'terminal';

/** Run the app in the editor's terminal (like the Debug Adapter Protocol's runInTerminal). */
export interface RunInTerminalRequest {
  /** Program and arguments; the first element is the program. */
  args: string[];
  cwd: string;
  /** Variables to add to the terminal's environment. */
  env: Record<string, string>;
  /** A title for the terminal (tab or window). */
  title: string;
}

export interface RunInTerminalResult {
  /** The pid of the process the editor started, if it knows it. */
  processId?: number;
}

/** How an app ended: an exit code or a signal (neither when it ran in a terminal we do not own). */
export interface AppExitInfo {
  code: number | null;
  signal: string | null;
  /** subsecond-lsp stopped it (stop, restart, quit). */
  requested: boolean;
}

export interface SessionObserver {
  log(level: LogLevel, message: string): void;
  /** Something the user must see (a popup in an editor, a highlighted line in the terminal). */
  notify(level: 'error' | 'warn' | 'info', message: string): void;
  /** A line the app printed. */
  appOutput(stream: 'stdout' | 'stderr', line: string): void;
  /** The problems of these files changed; read them with `Session.problemsFor`. */
  problemsChanged(files: string[]): void;
  statusChanged(status: SessionStatus): void;
  /**
   * An attempt to patch (or to build the app) ended: applied ("⚡ patched …"), blocked by restart
   * findings, or failed. Also in the status; this is the event, once per outcome, for front ends
   * that show no status line.
   */
  patchOutcome?(outcome: PatchOutcome, message: string): void;
  /** Long work (fat build, patch build): a handle that reports and ends it. */
  beginProgress(title: string): ProgressHandle;
  /** How this front end phrases an action ("run \"subsecond.restartApp\"", "press r"). */
  actionHint?(action: UserAction): string;
  /** Opens the app in the editor's terminal (`appTerminal: "editor"`); absent when unsupported. */
  runInTerminal?(request: RunInTerminalRequest): Promise<RunInTerminalResult>;
  /**
   * The app takes over the front end's own terminal (`appTerminal: "inherit"`) or gives it back
   * (it exited or was stopped). Nothing may be printed there in between.
   */
  terminalHandover?(event: 'taken' | 'released', exit?: AppExitInfo): void;
}

/** The front end's wording for an action, or a neutral one. */
export function actionHint(observer: SessionObserver, action: UserAction): string {
  return observer.actionHint?.(action) ?? `${action} the app`;
}
