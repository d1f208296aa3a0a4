// VS Code client for subsecond-lsp: starts `subsecond-lsp --stdio` for Rust files (rust-analyzer
// keeps running beside it), shows `subsecond/status` in the status bar and the answers of the
// server's commands as messages. Diagnostics, the quick fix and code lenses come through
// vscode-languageclient unchanged.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

const SECTION = 'subsecond';
const SERVER_KEYS = ['autoPatch', 'manifestPath', 'package', 'bin', 'cargoArgs', 'maxFileBytes', 'patchAckTimeoutMs', 'verbose'];
const SERVER_COMMANDS = {
  startApp: 'subsecond.startApp',
  restartApp: 'subsecond.restartApp',
  stopApp: 'subsecond.stopApp',
  patch: 'subsecond.patch',
  status: 'subsecond.status',
};

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.StatusBarItem | undefined} */
let statusItem;
/** The last `subsecond/status` params. */
let lastStatus;
let outputChannel;
/** The extension's own directory (the packaged server is in server/). */
let extensionPath = __dirname;

/** The "subsecond" settings the server understands; empty strings mean "not set". */
function serverSettings() {
  const config = vscode.workspace.getConfiguration(SECTION);
  const out = {};
  for (const key of SERVER_KEYS) {
    const value = config.get(key);
    if (value !== undefined && value !== null && value !== '') out[key] = value;
  }
  return out;
}

/**
 * `subsecond.serverPath` when set; else the server packaged inside the extension (the .vsix
 * carries it), run with VS Code's own Node, so nothing has to be on the login shell's PATH; else
 * (running from a checkout that was not packaged) `subsecond-lsp` from PATH.
 */
function serverExecutable() {
  const configured = (vscode.workspace.getConfiguration(SECTION).get('serverPath') || '').trim();
  const bundled = path.join(extensionPath, 'server', 'bin', 'subsecond-lsp.js');
  // The stdio transport makes the client append --stdio.
  if (!configured && fs.existsSync(bundled)) return { module: bundled, transport: TransportKind.stdio };
  return {
    command: configured || 'subsecond-lsp',
    transport: TransportKind.stdio,
    // npm installs the binary as a .cmd shim on Windows, which only a shell can start.
    options: { shell: process.platform === 'win32' },
  };
}

/** One line for messages: app, pid, patch state, count and the server's message. */
function summarize(s) {
  if (!s) return 'subsecond-lsp is starting';
  const pid = s.pid ? ` (pid ${s.pid})` : '';
  return `app ${s.app}${pid}, patch ${s.patch}, ${s.patchesApplied} applied${s.patchesUnconfirmed ? ` (${s.patchesUnconfirmed} of them sent to a client that does not report back: not confirmed)` : ''}${s.message ? ` — ${s.message}` : ''}`;
}

/** Status bar text, tooltip and background for a status. */
function describeStatus(s) {
  if (!s) return { text: '$(zap) subsecond', tooltip: summarize(s) };
  const base = summarize(s);
  const warn = new vscode.ThemeColor('statusBarItem.warningBackground');
  const error = new vscode.ThemeColor('statusBarItem.errorBackground');
  switch (s.app) {
    case 'stopped':
      return { text: '$(debug-start) subsecond', tooltip: `App not running: click to start or see actions\n${base}` };
    case 'crashed':
      return { text: '$(error) subsecond: crashed', tooltip: base, background: error };
    case 'building':
    case 'starting':
      return { text: `$(sync~spin) subsecond: ${s.app}`, tooltip: base };
  }
  switch (s.patch) {
    case 'building':
      return { text: '$(sync~spin) patching', tooltip: base };
    case 'blocked':
      return { text: `$(warning) restart needed (${s.blockingFindings})`, tooltip: `Changes that cannot be hot-patched; restart the app\n${base}`, background: warn };
    case 'failed':
      return { text: '$(error) patch failed', tooltip: base, background: error };
  }
  if (s.patchesApplied > 0) {
    const ms = s.lastPatchMs !== undefined ? ` · ${s.lastPatchMs} ms` : '';
    return { text: `$(zap) ${s.patchesApplied} patch${s.patchesApplied === 1 ? '' : 'es'}${ms}`, tooltip: base };
  }
  return { text: '$(zap) running', tooltip: base };
}

function showStatusBar(s) {
  if (!statusItem) return;
  const d = describeStatus(s);
  statusItem.text = d.text;
  statusItem.tooltip = d.tooltip;
  statusItem.backgroundColor = d.background;
  statusItem.show();
}

function reportResult(command, result) {
  if (command === SERVER_COMMANDS.status) {
    if (result && typeof result === 'object') {
      lastStatus = result;
      showStatusBar(result);
      void vscode.window.showInformationMessage(`subsecond: ${summarize(result)}`);
    }
    return;
  }
  if (result && typeof result.message === 'string') {
    const show = result.ok === false ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(`subsecond: ${result.message}`);
  }
}

/**
 * Tells the server this extension shows command answers and `subsecond/status` (the status bar)
 * itself; else the server also says them, and each patch outcome, as messages.
 */
const commandResultsFeature = {
  fillClientCapabilities(capabilities) {
    capabilities.experimental = { ...(capabilities.experimental || {}), subsecond: { showsCommandResults: true, showsStatus: true } };
  },
  initialize() {},
  getState() {
    return { kind: 'static' };
  },
  dispose() {},
};

function createClient() {
  const serverOptions = serverExecutable();
  const languageClient = new LanguageClient('subsecond-lsp', 'subsecond-lsp', serverOptions, {
    documentSelector: [{ scheme: 'file', language: 'rust' }],
    outputChannel,
    // Recomputed on every (re)start so edited settings apply.
    initializationOptions: () => ({ [SECTION]: serverSettings() }),
    // didChangeConfiguration on edits; the server then pulls the "subsecond" section.
    synchronize: { configurationSection: SECTION },
    middleware: {
      // The client registers the server's commands (palette, lenses, quick fix); this shows
      // their {ok, message} answers, which would otherwise be dropped.
      executeCommand: async (command, args, next) => {
        const result = await next(command, args);
        reportResult(command, result);
        return result;
      },
    },
  });
  languageClient.registerFeature(commandResultsFeature);
  return languageClient;
}

async function startClient() {
  client = createClient();
  client.onNotification('subsecond/status', (params) => {
    lastStatus = params;
    showStatusBar(params);
  });
  // Setting appTerminal = "editor": the app runs in an integrated terminal (like DAP's
  // runInTerminal); the server tracks it by the pid its wrapper reports.
  client.onRequest('subsecond/runInTerminal', async (params) => {
    const [shellPath, ...shellArgs] = params.args;
    const terminal = vscode.window.createTerminal({ name: params.title || 'subsecond app', shellPath, shellArgs, cwd: params.cwd, env: params.env });
    terminal.show(true);
    return { processId: await terminal.processId };
  });
  showStatusBar(undefined);
  try {
    await client.start();
    await vscode.commands.executeCommand('setContext', 'subsecond.serverReady', true);
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    statusItem.text = '$(error) subsecond';
    statusItem.tooltip = `subsecond-lsp did not start: ${message}`;
    void vscode.window.showErrorMessage(
      `subsecond-lsp did not start (${message}). Check "subsecond.serverPath" (empty: the server packaged with the extension).`,
      'Open Settings',
    ).then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'subsecond.serverPath');
    });
  }
}

async function stopClient() {
  await vscode.commands.executeCommand('setContext', 'subsecond.serverReady', false);
  const old = client;
  client = undefined;
  lastStatus = undefined;
  if (old) {
    try {
      await old.stop();
    } catch {
      /* already dead */
    }
  }
}

async function showActions() {
  const s = lastStatus;
  const running = s && s.app === 'running';
  const items = [
    !running && { label: '$(debug-start) Start app', command: SERVER_COMMANDS.startApp },
    running && { label: '$(zap) Patch now', command: SERVER_COMMANDS.patch },
    running && { label: '$(debug-restart) Restart app', command: SERVER_COMMANDS.restartApp },
    running && { label: '$(debug-stop) Stop app', command: SERVER_COMMANDS.stopApp },
    { label: '$(info) Show status', command: SERVER_COMMANDS.status },
    { label: '$(output) Show server output', run: () => outputChannel.show(true) },
  ].filter(Boolean);
  const picked = await vscode.window.showQuickPick(items, {
    title: 'subsecond',
    placeHolder: summarize(s),
  });
  if (!picked) return;
  if (picked.run) picked.run();
  else await vscode.commands.executeCommand(picked.command);
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  extensionPath = context.extensionPath;
  outputChannel = vscode.window.createOutputChannel('subsecond-lsp');
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  statusItem.name = 'subsecond';
  statusItem.command = 'subsecond.showActions';
  context.subscriptions.push(
    outputChannel,
    statusItem,
    vscode.commands.registerCommand('subsecond.showActions', showActions),
    vscode.commands.registerCommand('subsecond.restartServer', async () => {
      await stopClient();
      await startClient();
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      // A different binary needs a new process; other settings reach the running server.
      if (e.affectsConfiguration(`${SECTION}.serverPath`)) {
        await stopClient();
        await startClient();
      }
    }),
    { dispose: () => void stopClient() },
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
