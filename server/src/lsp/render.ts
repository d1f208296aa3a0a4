// Renders the session's plain data as LSP shapes: problems → diagnostics, status → code lenses,
// restart-class diagnostics → code actions. Pure functions: no connection, no state.
import { pathToFileURL } from 'node:url';
import {
  CodeAction,
  CodeActionKind,
  CodeLens,
  Diagnostic,
  DiagnosticSeverity,
} from 'vscode-languageserver/node';
import type { Problem, SessionStatus } from '../session/observer';
import { findingDocUrl } from '../support/project';
import { Commands } from './commands';

export const DIAGNOSTIC_SOURCE = 'subsecond';

export function fileUri(file: string): string {
  return pathToFileURL(file).toString();
}

export function problemToDiagnostic(p: Problem): Diagnostic {
  return {
    range: p.range,
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    source: DIAGNOSTIC_SOURCE,
    code: p.code,
    codeDescription: { href: findingDocUrl(p.code) },
    message: p.message,
    relatedInformation: p.related?.map((r) => ({ location: { uri: fileUri(r.file), range: r.range }, message: r.message })),
    data: { requiresRestart: p.requiresRestart },
  };
}

/** "Restart app to apply" on every restart-class diagnostic the client sent back. */
export function restartActions(diagnostics: Diagnostic[]): CodeAction[] {
  const restartClass = diagnostics.filter(
    (d) => d.source === DIAGNOSTIC_SOURCE && (d.data as { requiresRestart?: boolean } | undefined)?.requiresRestart === true,
  );
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

/** Lenses at the top of a Rust file: the patch status and what can be done now. */
export function statusLenses(status: SessionStatus, problems: Problem[]): CodeLens[] {
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const lenses: CodeLens[] = [];
  const add = (title: string, command: string) => lenses.push({ range: top, command: { title, command } });
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
  for (const p of problems)
    if (p.requiresRestart)
      lenses.push({
        range: { start: p.range.start, end: p.range.start },
        command: { title: `↻ requires restart: ${p.code}`, command: Commands.restartApp },
      });
  return lenses;
}

function statusTitle(s: SessionStatus): string {
  switch (s.patch) {
    case 'applied':
      return `✓ ${s.patchesApplied} patch${s.patchesApplied === 1 ? '' : 'es'} applied${s.lastPatchMs !== undefined ? `, last in ${s.lastPatchMs} ms` : ''}`;
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
