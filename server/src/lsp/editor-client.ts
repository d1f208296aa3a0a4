// The one interface for calls back to the editor: diagnostics, logs, messages, progress, code
// lens refreshes. It implements the session's observer, so the session talks to the editor
// without knowing the protocol.
import { CodeLensRefreshRequest, Connection, WorkDoneProgressServerReporter } from 'vscode-languageserver/node';
import type { LogLevel, ProgressHandle, SessionObserver, SessionStatus, Problem } from '../session/observer';
import { fileUri, problemToDiagnostic } from './render';

export interface ClientSupport {
  workDoneProgress: boolean;
  codeLensRefresh: boolean;
}

export class EditorClient implements SessionObserver {
  /** Set once the session exists; problems are read from it on demand. */
  problemsFor: (file: string) => Problem[] = () => [];
  private lastStatusKey = '';

  constructor(
    private readonly connection: Connection,
    private readonly support: ClientSupport,
    private readonly verbose: () => boolean,
  ) {}

  log(level: LogLevel, message: string): void {
    // Never stdout: it carries the protocol.
    switch (level) {
      case 'error':
        return this.connection.console.error(message);
      case 'warn':
        return this.connection.console.warn(message);
      case 'info':
        return this.connection.console.info(message);
      case 'debug':
        if (this.verbose()) this.connection.console.log(message);
    }
  }

  notify(level: 'error' | 'warn' | 'info', message: string): void {
    this.log(level, message);
    const w = this.connection.window;
    void (level === 'error' ? w.showErrorMessage(message) : level === 'warn' ? w.showWarningMessage(message) : w.showInformationMessage(message));
  }

  appOutput(stream: 'stdout' | 'stderr', line: string): void {
    this.connection.console.log(`[app ${stream}] ${line}`);
  }

  problemsChanged(files: string[]): void {
    for (const file of files)
      void this.connection.sendDiagnostics({ uri: fileUri(file), diagnostics: this.problemsFor(file).map(problemToDiagnostic) });
  }

  statusChanged(status: SessionStatus): void {
    void this.connection.sendNotification('subsecond/status', status);
    const key = `${status.app}|${status.patch}|${status.patchesApplied}|${status.blockingFindings}|${status.message}`;
    if (key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    if (this.support.codeLensRefresh) void this.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
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
    const ready = this.connection.window
      .createWorkDoneProgress()
      .then((r) => {
        reporter = r;
        r.begin(title, undefined, lastMessage);
        if (finished) r.done();
      })
      .catch(() => undefined);
    void ready;
    return {
      report: (message, percentage) => {
        lastMessage = message;
        if (!reporter || finished) return;
        if (percentage === undefined) reporter.report(message);
        else reporter.report(percentage, message);
      },
      done: () => {
        if (finished) return;
        finished = true;
        reporter?.done();
      },
    };
  }
}
