#!/usr/bin/env node
// A stand-in for subsecond-lsp that speaks the same editor contract (capabilities, commands,
// `subsecond/status`, struct-layout-changed on save, lenses) with no analysis behind it. It lets
// smoke.sh test the editor plugin on its own: `smoke.sh --stub`. Plain Node, no dependencies.
'use strict';

let buffer = Buffer.alloc(0);
let nextId = 1;
const opened = new Map(); // uri -> text at open
let settingsSeen = null;
let lensRefresh = false; // the client advertised workspace.codeLens.refreshSupport
const pending = new Map(); // our request id -> method
const status = { app: 'stopped', patch: 'idle', patchesApplied: 0, blockingFindings: 0, message: 'app not running' };

function send(msg) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }), 'utf8');
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}
const notify = (method, params) => send({ method, params });
const reply = (id, result) => send({ id, result });
function request(method, params) {
  const id = nextId++;
  pending.set(id, method);
  send({ id, method, params });
}
function sendStatus() {
  notify('subsecond/status', { ...status });
  if (lensRefresh) request('workspace/codeLens/refresh', null);
}

// Field names per struct, by a regex that is good enough for the fixture.
function structFields(text) {
  const out = {};
  for (const m of text.matchAll(/struct\s+(\w+)\s*\{([^}]*)\}/g)) {
    out[m[1]] = [...m[2].matchAll(/(\w+)\s*:/g)].map((f) => f[1]).join(',');
  }
  return out;
}

function layoutDiagnostics(before, after) {
  const a = structFields(before);
  const b = structFields(after);
  const lines = after.split('\n');
  const diags = [];
  for (const name of Object.keys(b)) {
    if (a[name] === undefined || a[name] === b[name]) continue;
    const line = lines.findIndex((l) => new RegExp(`struct\\s+${name}\\b`).test(l));
    const col = lines[line].indexOf(name);
    diags.push({
      range: { start: { line, character: col }, end: { line, character: col + name.length } },
      severity: 2,
      source: 'subsecond',
      code: 'struct-layout-changed',
      message: `layout of ${name} changed (${a[name]} -> ${b[name]}): requires restart (stub)`,
      data: { requiresRestart: true },
    });
  }
  return diags;
}

function handle(msg) {
  const { id, method, params } = msg;
  if (method === undefined) {
    const asked = pending.get(id);
    pending.delete(id);
    if (msg.error) process.stderr.write(`stub: ${asked} failed: ${JSON.stringify(msg.error)}\n`);
    else if (asked === 'workspace/configuration') settingsSeen = msg.result[0];
    return;
  }
  switch (method) {
    case 'initialize':
      lensRefresh = params.capabilities?.workspace?.codeLens?.refreshSupport === true;
      return reply(id, {
        capabilities: {
          textDocumentSync: { openClose: true, change: 2, save: { includeText: true } },
          codeActionProvider: { codeActionKinds: ['quickfix'] },
          codeLensProvider: { resolveProvider: false },
          executeCommandProvider: {
            commands: ['subsecond.startApp', 'subsecond.restartApp', 'subsecond.stopApp', 'subsecond.patch', 'subsecond.status'],
          },
        },
        serverInfo: { name: 'subsecond-lsp-stub', version: '0' },
      });
    case 'initialized':
      request('workspace/configuration', { items: [{ section: 'subsecond' }] });
      return sendStatus();
    case 'textDocument/didOpen':
      opened.set(params.textDocument.uri, params.textDocument.text);
      return;
    case 'textDocument/didSave': {
      const uri = params.textDocument.uri;
      if (typeof params.text !== 'string') return;
      const diagnostics = layoutDiagnostics(opened.get(uri) ?? params.text, params.text);
      return notify('textDocument/publishDiagnostics', { uri, diagnostics });
    }
    case 'textDocument/codeLens':
      return reply(id, [
        {
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
          command: status.app === 'running' ? { title: '⚡ patch', command: 'subsecond.patch' } : { title: '▶ start app', command: 'subsecond.startApp' },
        },
      ]);
    case 'textDocument/codeAction': {
      const restartClass = (params.context?.diagnostics ?? []).filter((d) => d.data?.requiresRestart);
      if (restartClass.length === 0) return reply(id, []);
      return reply(id, [
        {
          title: 'Restart app to apply',
          kind: 'quickfix',
          diagnostics: restartClass,
          command: { title: 'Restart app to apply', command: 'subsecond.restartApp' },
        },
      ]);
    }
    case 'workspace/executeCommand':
      switch (params.command) {
        case 'subsecond.status':
          return reply(id, { ...status, message: `settings seen: ${JSON.stringify(settingsSeen)}` });
        case 'subsecond.startApp':
          Object.assign(status, { app: 'running', pid: process.pid, message: 'running (stub)' });
          sendStatus();
          return reply(id, { ok: true, message: 'started (stub)' });
        case 'subsecond.stopApp':
          Object.assign(status, { app: 'stopped', pid: undefined, message: 'stopped (stub)' });
          sendStatus();
          return reply(id, { ok: true, message: 'stopped (stub)' });
        default:
          return reply(id, { ok: false, message: `${params.command} is not implemented by the stub` });
      }
    case 'shutdown':
      return reply(id, null);
    case 'exit':
      return process.exit(0);
    default:
      if (id !== undefined) send({ id, error: { code: -32601, message: `stub: no ${method}` } });
  }
}

process.stdin.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const match = /Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'));
    const length = match ? Number(match[1]) : 0;
    if (buffer.length < headerEnd + 4 + length) return;
    const body = buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
    buffer = buffer.subarray(headerEnd + 4 + length);
    handle(JSON.parse(body));
  }
});
process.stdin.on('end', () => process.exit(0));
// The editor may close the pipe right after `exit`/shutdown; that is not an error.
process.stdout.on('error', () => process.exit(0));
