// A real LSP client for tests: starts the built server binary over stdio, speaks JSON-RPC, and
// records everything the server sends (diagnostics, logs, progress, status) so tests can wait
// for what a user would see.
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The app's own output, relayed as log lines: kept apart from the server's in a timeout's report. */
const APP_OUTPUT = /^\[app (stdout|stderr)\]/;
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SERVER_BIN = path.join(REPO_ROOT, 'node_modules', '.bin', 'subsecond-lsp');

export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity?: number;
  code?: string | number;
  codeDescription?: { href: string };
  source?: string;
  message: string;
  relatedInformation?: Array<{ location: { uri: string; range: unknown }; message: string }>;
  data?: unknown;
}

export interface ClientOptions {
  rootDir: string;
  initializationOptions?: unknown;
  /** Answer workspace/configuration with this (the client then advertises support). */
  configuration?: unknown;
  env?: NodeJS.ProcessEnv;
  /** The server executable to start (default: the repository's bin, run with this node). */
  serverCommand?: string;
  /** Runs the server under this command prefix (e.g. `unshare -rm …`); the server command is appended. */
  wrap?: string[];
  /** The client capabilities to declare instead of the default set. */
  capabilities?: Record<string, unknown>;
}

export class TestLspClient {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  readonly diagnostics = new Map<string, Diagnostic[]>();
  /** Every publishDiagnostics, in order (what was ever on screen, not only the latest). */
  readonly publishedDiagnostics: Array<{ uri: string; diagnostics: Diagnostic[] }> = [];
  readonly logs: string[] = [];
  readonly messages: Array<{ type: number; message: string }> = [];
  readonly progress: Array<{ token: unknown; value: { kind: string; title?: string; message?: string } }> = [];
  readonly statuses: Array<{ app: string; patch: string; message: string; patchesApplied: number }> = [];
  /** Every request the server sent to the client, in order (method and params). */
  readonly serverRequests: Array<{ method: string; params: unknown }> = [];
  stderr = '';
  private waiters: Array<() => void> = [];
  private version = new Map<string, number>();

  constructor(private readonly options: ClientOptions) {
    const server = options.serverCommand ? [options.serverCommand, '--stdio'] : [process.execPath, SERVER_BIN, '--stdio'];
    const command = [...(options.wrap ?? []), ...server];
    this.process = spawn(command[0], command.slice(1), {
      cwd: options.rootDir,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.connection = createMessageConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diagnostic[] }) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      this.publishedDiagnostics.push(p);
      this.wake();
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => {
      this.logs.push(p.message);
      this.wake();
    });
    this.connection.onNotification('window/showMessage', (p: { type: number; message: string }) => {
      this.messages.push(p);
      this.wake();
    });
    this.connection.onRequest('window/showMessageRequest', (p: { type: number; message: string }) => {
      this.serverRequests.push({ method: 'window/showMessageRequest', params: p });
      this.messages.push(p);
      this.wake();
      return null;
    });
    this.connection.onNotification('subsecond/status', (s: TestLspClient['statuses'][number]) => {
      this.statuses.push(s);
      this.wake();
    });
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.onNotification('$/progress', (p: TestLspClient['progress'][number]) => {
      this.progress.push(p);
      this.wake();
    });
    this.connection.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => options.configuration ?? null));
    this.connection.onRequest('workspace/codeLens/refresh', () => null);
    this.connection.onRequest('client/registerCapability', (p: unknown) => {
      this.serverRequests.push({ method: 'client/registerCapability', params: p });
      return null;
    });
    this.connection.listen();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async initialize(): Promise<{ capabilities: Record<string, unknown> }> {
    const result = (await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(this.options.rootDir).toString(),
      workspaceFolders: [{ uri: pathToFileURL(this.options.rootDir).toString(), name: 'ws' }],
      initializationOptions: this.options.initializationOptions,
      capabilities: this.options.capabilities ?? {
        window: { workDoneProgress: true },
        workspace: { configuration: this.options.configuration !== undefined, codeLens: { refreshSupport: true } },
        textDocument: { synchronization: { didSave: true }, publishDiagnostics: { relatedInformation: true } },
      },
    })) as { capabilities: Record<string, unknown> };
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  uri(file: string): string {
    return pathToFileURL(file).toString();
  }

  async open(file: string, text: string): Promise<void> {
    this.version.set(file, 1);
    await this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri: this.uri(file), languageId: 'rust', version: 1, text },
    });
  }

  /** Replaces the whole buffer without saving (the user typed). */
  async change(file: string, text: string): Promise<void> {
    const v = (this.version.get(file) ?? 1) + 1;
    this.version.set(file, v);
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: this.uri(file), version: v },
      contentChanges: [{ text }],
    });
  }

  /** Saves the buffer as it is (the editor writes the file, then sends didSave). */
  async save(file: string, text: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didSave', { textDocument: { uri: this.uri(file) }, text });
  }

  async close(file: string): Promise<void> {
    this.version.delete(file);
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri: this.uri(file) } });
  }

  /** Replaces the whole buffer, then saves (as an editor does after the user types and saves). */
  async changeAndSave(file: string, text: string, includeText = true): Promise<void> {
    const v = (this.version.get(file) ?? 1) + 1;
    this.version.set(file, v);
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: this.uri(file), version: v },
      contentChanges: [{ text }],
    });
    await this.connection.sendNotification('textDocument/didSave', { textDocument: { uri: this.uri(file) }, text: includeText ? text : undefined });
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.connection.sendRequest(method, params) as Promise<T>;
  }

  executeCommand<T = unknown>(command: string, args: unknown[] = []): Promise<T> {
    return this.request<T>('workspace/executeCommand', { command, arguments: args });
  }

  diagnosticsFor(file: string): Diagnostic[] {
    return this.diagnostics.get(this.uri(file)) ?? [];
  }

  /** Waits until `check` returns a truthy value (re-checked on every server message). */
  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}\nlast server logs:\n${this.logs.filter((l) => !APP_OUTPUT.test(l)).slice(-25).join('\n')}\n` +
            `last app output:\n${this.logs.filter((l) => APP_OUTPUT.test(l)).slice(-5).join('\n')}\nlast status: ${this.statuses[this.statuses.length - 1]?.message ?? '(none)'}\nstderr:\n${this.stderr.slice(-2000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitForDiagnostics(file: string, what: string, check: (d: Diagnostic[]) => boolean, timeoutMs?: number): Promise<Diagnostic[]> {
    return this.waitFor(what, () => {
      const d = this.diagnostics.get(this.uri(file));
      return d && check(d) ? d : undefined;
    }, timeoutMs);
  }

  /**
   * Keeps the server's side of a run for reading after a failure: its log lines (not the app's
   * stdout) and every status, in `$TMPDIR/<name>-e2e-server.log`.
   */
  writeServerLog(name: string): void {
    const lines = [...this.logs.filter((l) => !l.startsWith('[app stdout]')), ...this.statuses.map((s) => `status ${s.patch}: ${s.message}`)];
    fs.writeFileSync(path.join(os.tmpdir(), `${name}-e2e-server.log`), lines.join('\n'));
  }

  async shutdown(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => {
      if (this.process.exitCode !== null) resolve(this.process.exitCode);
      else this.process.once('exit', (code) => resolve(code));
    });
    try {
      await Promise.race([this.request('shutdown', null), new Promise((r) => setTimeout(r, 15_000))]);
      await this.connection.sendNotification('exit');
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    this.connection.dispose();
    return code;
  }
}
