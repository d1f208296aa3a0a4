// The one interface for calls back to the editor: diagnostics, logs, messages, progress, code
// lens refreshes. It implements the session's observer, so the session talks to the editor
// without knowing the protocol.
import { CodeLensRefreshRequest, Connection, MessageType, ShowMessageNotification, WorkDoneProgressServerReporter } from 'vscode-languageserver/node';
import type {
  LogLevel,
  PatchOutcome,
  ProgressHandle,
  SessionObserver,
  SessionStatus,
  Problem,
  RunInTerminalRequest,
  RunInTerminalResult,
  UserAction,
} from '../session/observer';
import { Commands } from './commands';
import { fileUri, problemToDiagnostic } from './render';

export interface ClientSupport {
  workDoneProgress: boolean;
  codeLensRefresh: boolean;
  /**
   * The client shows `subsecond/status` (it declared `experimental.subsecond.showsStatus`: our
   * Neovim plugin, our VS Code extension). Others (Helix, Zed, a plain LSP client) ignore that
   * notification, so each patch outcome is also sent to them as `window/showMessage`.
   */
  showsStatus: boolean;
}

export class EditorClient implements SessionObserver {
  /** Set once the session exists; problems are read from it on demand. */
  problemsFor: (file: string) => Problem[] = () => [];
  private lastStatusKey = '';
  /** An outcome about to be shown as a message, unless the session notifies the same text (its level wins). */
  private pendingOutcome: string | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly support: ClientSupport,
    private readonly verbose: () => boolean,
    /** The `docsUrl` setting: where diagnostics link to (default: the docs shipped with the server). */
    private readonly docsUrl: () => string | undefined = () => undefined,
  ) {}

  /**
   * Every call back to the editor goes through here: once the editor is gone, the app's output
   * and late build results must not throw into the session (or kill the server before it has
   * stopped the app).
   */
  private send(call: () => unknown): void {
    try {
      const r = call();
      if (r instanceof Promise) r.catch(() => undefined);
    } catch {
      /* the connection is closed */
    }
  }

  log(level: LogLevel, message: string): void {
    // Never stdout: it carries the protocol.
    const c = this.connection.console;
    switch (level) {
      case 'error':
        return this.send(() => c.error(message));
      case 'warn':
        return this.send(() => c.warn(message));
      case 'info':
        return this.send(() => c.info(message));
      case 'debug':
        if (this.verbose()) this.send(() => c.log(message));
    }
  }

  notify(level: 'error' | 'warn' | 'info', message: string): void {
    this.log(level, message);
    if (message === this.pendingOutcome) this.pendingOutcome = undefined; // said once, at this level
    this.showMessage(level, message);
  }

  patchOutcome(outcome: PatchOutcome, message: string): void {
    if (this.support.showsStatus) return; // its status line says it
    // The session may notify the same text right after (synchronously): then that is the message.
    this.pendingOutcome = message;
    queueMicrotask(() => {
      if (this.pendingOutcome !== message) return;
      this.pendingOutcome = undefined;
      this.showMessage(outcome === 'applied' ? 'info' : outcome === 'blocked' ? 'warn' : 'error', message);
    });
  }

  /**
   * A notification, never `window/showMessageRequest`: that request is for a choice, and with no
   * actions Neovim shows an empty prompt, Helix drops it and VS Code shows a second toast.
   */
  /** The text of the last message shown, so a command's answer is not said twice. */
  lastMessage = '';

  showMessage(level: 'error' | 'warn' | 'info', message: string): void {
    this.lastMessage = message;
    const type = level === 'error' ? MessageType.Error : level === 'warn' ? MessageType.Warning : MessageType.Info;
    this.send(() => this.connection.sendNotification(ShowMessageNotification.type, { type, message }));
  }

  appOutput(stream: 'stdout' | 'stderr', line: string): void {
    this.send(() => this.connection.console.log(`[app ${stream}] ${line}`));
    // The same line for integrations that show the app's output in a buffer of its own.
    this.send(() => this.connection.sendNotification('subsecond/appOutput', { stream, line }));
  }

  actionHint(action: UserAction): string {
    switch (action) {
      case 'start':
        return `run "${Commands.startApp}"`;
      case 'restart':
        return `run "${Commands.restartApp}"`;
      case 'stop':
      case 'quit':
        return `run "${Commands.stopApp}"`;
      case 'patch':
        return `run "${Commands.patch}"`;
      case 'terminal':
        return 'set "appTerminal" to "editor" (or a terminal command such as ["tmux", "new-window"]) in the subsecond settings';
    }
  }

  /** Like the Debug Adapter Protocol's runInTerminal: the editor opens the app in its terminal. */
  runInTerminal(request: RunInTerminalRequest): Promise<RunInTerminalResult> {
    return this.connection.sendRequest<RunInTerminalResult | null>('subsecond/runInTerminal', request).then((r) => r ?? {});
  }

  problemsChanged(files: string[]): void {
    for (const file of files)
      this.send(() => this.connection.sendDiagnostics({ uri: fileUri(file), diagnostics: this.problemsFor(file).map((p) => problemToDiagnostic(p, this.docsUrl())) }));
  }

  statusChanged(status: SessionStatus): void {
    this.send(() => this.connection.sendNotification('subsecond/status', status));
    const key = `${status.app}|${status.patch}|${status.patchesApplied}|${status.blockingFindings}|${status.message}`;
    if (key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    if (this.support.codeLensRefresh) this.send(() => this.connection.sendRequest(CodeLensRefreshRequest.type));
  }

  beginProgress(title: string): ProgressHandle {
    if (!this.support.workDoneProgress) {
      this.log('info', title);
      return { report: (m) => this.log('debug', `${title}: ${m}`), done: () => undefined };
    }
    // Creating the token is a request; report/done wait for it so nothing arrives out of order.
    let reporter: WorkDoneProgressServerReporter | undefined;
    let finished = false;
    let lastMessage: string | undefined;
    this.send(() =>
      this.connection.window.createWorkDoneProgress().then((r) => {
        reporter = r;
        this.send(() => r.begin(title, undefined, lastMessage));
        if (finished) this.send(() => r.done());
      }),
    );
    return {
      report: (message, percentage) => {
        lastMessage = message;
        const r = reporter;
        if (!r || finished) return;
        this.send(() => (percentage === undefined ? r.report(message) : r.report(percentage, message)));
      },
      done: () => {
        if (finished) return;
        finished = true;
        const r = reporter;
        if (r) this.send(() => r.done());
      },
    };
  }
}
