// Renders the session's plain data as LSP shapes: problems → diagnostics, status → code lenses,
// restart-class diagnostics → code actions. Pure functions: no connection, no state.
import { pathToFileURL } from 'node:url';
import {
  CodeAction,
  CodeActionKind,
  CodeLens,
  Diagnostic,
  DiagnosticSeverity,
  Range,
} from 'vscode-languageserver/node';
import type { FunctionStatus, Problem, SessionStatus } from '../session/observer';
import { findingDocUrl } from '../support/project';
import { Commands } from './commands';

export const DIAGNOSTIC_SOURCE = 'subsecond';

export function fileUri(file: string): string {
  return pathToFileURL(file).toString();
}

/** `docsUrl`: the configured docs home (setting `docsUrl`), else links lead to the shipped docs. */
export function problemToDiagnostic(p: Problem, docsUrl?: string): Diagnostic {
  const href = findingDocUrl(p.code, docsUrl);
  return {
    range: p.range,
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    source: DIAGNOSTIC_SOURCE,
    code: p.code,
    codeDescription: href ? { href } : undefined,
    message: p.message,
    relatedInformation: p.related?.map((r) => ({ location: { uri: fileUri(r.file), range: r.range }, message: r.message })),
    data: { requiresRestart: p.requiresRestart },
  };
}

function overlaps(a: Range, b: Range): boolean {
  const before = (x: Range['start'], y: Range['start']) => x.line < y.line || (x.line === y.line && x.character < y.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/**
 * "Restart app to apply" on the restart-class diagnostics the client sent back, and on those whose
 * item contains the requested range: Helix and Zed only send diagnostics under the cursor, and a
 * warning sits on the item's name while the fix applies to the whole item.
 */
export function restartActions(requested: Range, diagnostics: Diagnostic[], problems: Problem[] = [], docsUrl?: string): CodeAction[] {
  const restartClass = diagnostics.filter(
    (d) => d.source === DIAGNOSTIC_SOURCE && (d.data as { requiresRestart?: boolean } | undefined)?.requiresRestart === true,
  );
  const seen = new Set(restartClass.map(diagnosticKey));
  for (const p of problems) {
    if (!p.requiresRestart || !overlaps(requested, p.itemRange ?? p.range)) continue;
    const d = problemToDiagnostic(p, docsUrl);
    if (!seen.has(diagnosticKey(d))) restartClass.push(d), seen.add(diagnosticKey(d));
  }
  if (restartClass.length === 0) return [];
  return [
    {
      title: 'Restart app to apply',
      kind: CodeActionKind.QuickFix,
      diagnostics: restartClass,
      isPreferred: true,
      command: { title: 'Restart app to apply', command: Commands.restartApp },
    },
  ];
}

function diagnosticKey(d: Diagnostic): string {
  return `${d.code}|${d.range.start.line}:${d.range.start.character}|${d.message}`;
}

/**
 * The file's status lenses, shown above its first line, and a restart lens on each item that
 * needs one. Ranges are real: `file` spans the whole document (Zed lists a lens in the code
 * actions menu only while the cursor is inside its range, so these are reachable anywhere) and
 * an item's lens spans the item.
 */
export function statusLenses(status: SessionStatus, problems: Problem[], file: Range, functions: FunctionStatus[] = []): CodeLens[] {
  const lenses: CodeLens[] = [];
  const add = (title: string, command: string) => lenses.push({ range: file, command: { title, command } });
  switch (status.app) {
    case 'stopped':
    case 'crashed':
      add(status.app === 'crashed' ? '▶ start app (it crashed)' : '▶ start app', Commands.startApp);
      break;
    case 'building':
    case 'starting':
      add(`⏳ ${status.message}`, Commands.status);
      break;
    case 'running':
      add('⚡ patch', Commands.patch);
      add(statusTitle(status), Commands.status);
      add('↻ restart app', Commands.restartApp);
      break;
  }
  // Per function (and Dioxus component): what differs from the code the app runs. A patch carries
  // the whole pending change (every crate changed since the start), so the lens says so rather
  // than "this function". "live" only after the app's agent confirmed; a client that does not
  // report back (Dioxus' devtools client) was only sent it.
  for (const f of functions) {
    const what = f.component ? 'component ' : '';
    if (f.state === 'pending') lenses.push({ range: f.range, command: { title: `⚡ patch ${what}(whole pending change)`, command: Commands.patch } });
    else if (f.state === 'live')
      lenses.push({ range: f.range, command: { title: `✓ live · patch ${f.patch} · ${f.ms} ms`, command: Commands.status } });
    else if (f.state === 'sent')
      lenses.push({ range: f.range, command: { title: `↗ sent · patch ${f.patch} (not confirmed: the app's client does not report back)`, command: Commands.status } });
    // 'restart': the restart lens below covers it
  }
  for (const p of problems)
    if (p.requiresRestart)
      lenses.push({
        range: p.itemRange ?? p.range,
        command: { title: `↻ requires restart: ${p.code}`, command: Commands.restartApp },
      });
  return lenses;
}

function statusTitle(s: SessionStatus): string {
  switch (s.patch) {
    case 'applied': {
      const n = s.patchesApplied;
      const patches = `${n} patch${n === 1 ? '' : 'es'}`;
      const last = s.lastPatchMs !== undefined ? `, last in ${s.lastPatchMs} ms` : '';
      // a dx-compatible client never confirms: "applied" is not known
      if (s.patchesUnconfirmed && s.patchesUnconfirmed === n) return `↗ ${patches} sent, not confirmed (the app's client does not report back)${last}`;
      if (s.patchesUnconfirmed) return `✓ ${n - s.patchesUnconfirmed} of ${patches} applied, ${s.patchesUnconfirmed} sent unconfirmed${last}`;
      return `✓ ${patches} applied${last}`;
    }
    case 'blocked':
      return `⚠ patch blocked: ${s.blockingFindings} change${s.blockingFindings === 1 ? '' : 's'} require${s.blockingFindings === 1 ? 's' : ''} restart`;
    case 'failed':
      return `✗ ${s.message}`;
    case 'building':
      return '⏳ building patch…';
    case 'unchanged':
      return `= ${s.message}`;
    default:
      return `● running (pid ${s.pid ?? '?'})`;
  }
}
