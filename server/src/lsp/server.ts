// The LSP front end: binds protocol handlers to a Session and renders its data. It owns the
// connection, the open documents and the capabilities; all decisions are the session's.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  Connection,
  DidChangeConfigurationNotification,
  InitializeParams,
  InitializeResult,
  Range,
  ResponseError,
  ErrorCodes,
  MessageType,
  ShowMessageNotification,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { formatDoctorReport, runDoctor } from '../doctor';
import { Session } from '../session/session';
import { Settings, defaultSettings, mergeSettings } from '../session/settings';
import { stopAllProcesses } from '../support/process';
import { packageVersion } from '../support/version';
import { allCommands, Commands } from './commands';
import { EditorClient } from './editor-client';
import { restartActions, statusLenses } from './render';
import { guardedDocumentSync } from './param-guards';

function uriToPath(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !uri.startsWith('file:')) return undefined;
  try {
    return path.resolve(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

/** The document's full range (a file not open here: its first line's start). */
function wholeDocument(doc: TextDocument | undefined): Range {
  const start = { line: 0, character: 0 };
  return { start, end: doc ? doc.positionAt(doc.getText().length) : start };
}

export interface LanguageServerHandle {
  /** The editor asked for `shutdown` (so a closing pipe afterwards is an orderly exit). */
  shutdownRequested(): boolean;
}

export function startLanguageServer(connection: Connection): LanguageServerHandle {
  const documents = new TextDocuments(TextDocument);
  let session: Session | undefined;
  let sessionReady: Promise<Session | undefined> = Promise.resolve(undefined);
  let settings: Settings = defaultSettings;
  let rootDir = process.cwd();
  let verbose = false;
  let supportsConfiguration = false;
  let mayRegisterConfiguration = false;
  let showsCommandResults = false;
  let client: EditorClient;

  const settingsFrom = (input: unknown): Settings => {
    const problems: string[] = [];
    const s = mergeSettings(defaultSettings, input, problems);
    // A notification: showMessageRequest is for choices (see EditorClient.showMessage).
    for (const p of problems) void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `subsecond: ${p}` });
    if (input && typeof input === 'object') verbose = (input as { verbose?: unknown }).verbose === true || verbose;
    return s;
  };

  let initializeSeen = false;
  connection.onInitialize((params: InitializeParams): InitializeResult => {
    if (initializeSeen) throw new ResponseError(ErrorCodes.InvalidRequest, 'initialize was already received: a server is initialized once per connection');
    initializeSeen = true;
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    const folderPath = folder ? uriToPath(folder) : params.rootPath ?? undefined;
    if (folderPath) rootDir = folderPath;
    settings = settingsFrom(params.initializationOptions);
    supportsConfiguration = params.capabilities.workspace?.configuration === true;
    // Registering without the client's leave is a protocol error (Neovim and Helix log it).
    mayRegisterConfiguration = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    // Our Neovim plugin and VS Code extension show a command's answer themselves and say so.
    const ours = (params.capabilities.experimental as { subsecond?: { showsCommandResults?: unknown; showsStatus?: unknown } } | undefined)?.subsecond;
    showsCommandResults = ours?.showsCommandResults === true;
    client = new EditorClient(
      connection,
      {
        workDoneProgress: params.capabilities.window?.workDoneProgress === true,
        codeLensRefresh: params.capabilities.workspace?.codeLens?.refreshSupport === true,
        // Our Neovim plugin and VS Code extension show `subsecond/status`; other editors get each
        // patch outcome as a message too.
        showsStatus: ours?.showsStatus === true,
      },
      () => verbose,
      () => settings.docsUrl,
    );
    return {
      capabilities: {
        textDocumentSync: {
          openClose: true,
          change: TextDocumentSyncKind.Incremental,
          save: { includeText: true },
        },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: allCommands },
      },
      serverInfo: { name: 'subsecond-lsp', version: packageVersion() },
    };
  });

  connection.onInitialized(() => {
    // Assigned synchronously: every later handler awaits the same session.
    sessionReady = (async () => {
      if (mayRegisterConfiguration)
        void connection.client.register(DidChangeConfigurationNotification.type, { section: 'subsecond' }).catch(() => undefined);
      if (supportsConfiguration) {
        try {
          const pulled: unknown = await connection.workspace.getConfiguration('subsecond');
          if (pulled) settings = mergeSettings(settings, pulled);
        } catch {
          /* the client said it supports configuration but failed: keep initializationOptions */
        }
      }
      try {
        const s = await Session.create(rootDir, settings, client);
        session = s;
        client.problemsFor = (f) => s.problemsFor(f);
        for (const doc of documents.all()) {
          const file = uriToPath(doc.uri);
          if (file) s.fileOpened(file, doc.getText());
        }
        await s.startWatching();
        return s;
      } catch (err) {
        client.notify('error', `subsecond-lsp could not start its session: ${(err as Error).message}`);
        return undefined;
      }
    })();
  });

  connection.onDidChangeConfiguration(async (change) => {
    let next = settings;
    if (supportsConfiguration) {
      try {
        next = mergeSettings(defaultSettings, await connection.workspace.getConfiguration('subsecond'));
      } catch {
        next = settingsFrom(change.settings);
      }
    } else next = settingsFrom(change.settings);
    settings = next;
    session?.updateSettings(next);
  });

  documents.onDidOpen(async (e) => {
    const file = uriToPath(e.document.uri);
    const s = await sessionReady;
    if (file && s) s.fileOpened(file, e.document.getText());
  });

  // Unsaved text: judged when typing pauses, built ahead of the save (or patched live).
  documents.onDidChangeContent(async (e) => {
    const file = uriToPath(e.document.uri);
    const s = await sessionReady;
    if (file && s) s.bufferChanged(file, e.document.getText());
  });

  documents.onDidClose(async (e) => {
    const file = uriToPath(e.document.uri);
    const s = await sessionReady;
    if (file && s) s.bufferClosed(file);
  });

  documents.onDidSave(async (e) => {
    const file = uriToPath(e.document.uri);
    const s = await sessionReady;
    if (file && s) s.fileSaved(file, e.document.getText(), 'editor');
  });

  connection.onCodeAction(async (params) => {
    const file = uriToPath(params.textDocument.uri);
    const s = await sessionReady;
    return restartActions(params.range, params.context.diagnostics, file && s ? s.problemsFor(file) : [], settings.docsUrl);
  });

  connection.onCodeLens(async (params) => {
    const file = uriToPath(params.textDocument.uri);
    const s = await sessionReady;
    if (!file || !s || !s.isTracked(file)) return [];
    return statusLenses(s.status(), s.problemsFor(file), wholeDocument(documents.get(params.textDocument.uri)), s.functionsFor(file));
  });

  connection.onExecuteCommand(async (params) => {
    const result = await runCommand(params.command);
    // Helix and Zed show nothing of a command's answer: without this a started app, or a start
    // that did nothing, would go unsaid there.
    if (!showsCommandResults && typeof result?.message === 'string' && result.message !== client.lastMessage)
      client.showMessage('ok' in result && result.ok === false ? 'warn' : 'info', `subsecond: ${result.message}`);
    return result;
  });

  async function runCommand(command: string) {
    if (command === Commands.doctor) {
      const { manifestPath, package: pkg, bin, cargoArgs } = settings;
      const report = await runDoctor({ manifestPath, package: pkg, bin, cargoArgs, cwd: rootDir });
      return { ok: report.ok, message: formatDoctorReport(report), checks: report.checks };
    }
    const s = await sessionReady;
    if (!s) throw new ResponseError(ErrorCodes.InternalError, 'subsecond-lsp has no session (see the earlier error)');
    switch (command) {
      case Commands.startApp:
        return s.startApp();
      case Commands.restartApp:
        return s.restartApp();
      case Commands.stopApp:
        return s.stopApp();
      case Commands.patch:
        return s.patchNow();
      case Commands.status:
        return s.status();
      default:
        throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${command}; known: ${allCommands.join(', ')}`);
    }
  }

  let shutdownRequested = false;
  connection.onShutdown(async () => {
    shutdownRequested = true;
    const s = await sessionReady;
    await s?.dispose();
    stopAllProcesses();
  });

  connection.onExit(() => {
    stopAllProcesses();
    process.exit(0);
  });

  documents.listen(guardedDocumentSync(connection, (m) => connection.console.error(m)));
  connection.listen();
  return { shutdownRequested: () => shutdownRequested };
}
