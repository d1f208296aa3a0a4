// Shape checks for the document-sync notifications, in front of the library's TextDocuments
// (which trusts its input and would store a number as a document's text, or throw on a missing
// textDocument). A malformed notification is dropped with one clear log line; notifications
// cannot be answered with an error response.
import type { Connection } from 'vscode-languageserver/node';

type Check = (params: unknown) => string | undefined;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

function field(obj: Record<string, unknown>, path: string, name: string, want: 'string' | 'integer' | 'object'): string | undefined {
  const v = obj[name];
  const ok = want === 'integer' ? Number.isSafeInteger(v) : want === 'object' ? isObj(v) : typeof v === want;
  return ok ? undefined : `${path}${name} is ${v === undefined ? 'missing' : kind(v)}, expected ${want === 'integer' ? 'an integer' : want === 'object' ? 'an object' : 'a string'}`;
}

function textDocument(params: unknown, extra: Array<[string, 'string' | 'integer']>): string | undefined {
  if (!isObj(params)) return `params are ${kind(params)}, expected an object`;
  const td = params.textDocument;
  if (!isObj(td)) return field(params, '', 'textDocument', 'object');
  for (const [name, want] of [['uri', 'string'] as [string, 'string'], ...extra]) {
    const p = field(td, 'textDocument.', name, want);
    if (p) return p;
  }
  return undefined;
}

const checks: Record<string, Check> = {
  onDidOpenTextDocument: (p) => textDocument(p, [['languageId', 'string'], ['version', 'integer'], ['text', 'string']]),
  onDidChangeTextDocument: (p) => {
    const problem = textDocument(p, [['version', 'integer']]);
    if (problem) return problem;
    const changes = (p as Record<string, unknown>).contentChanges;
    if (!Array.isArray(changes)) return `contentChanges is ${kind(changes)}, expected an array`;
    const bad = changes.findIndex((c) => !isObj(c) || typeof c.text !== 'string' || (c.range !== undefined && !validRange(c.range)));
    return bad >= 0 ? `contentChanges[${bad}] is not a {text, range?} change` : undefined;
  },
  onDidCloseTextDocument: (p) => textDocument(p, []),
  onWillSaveTextDocument: (p) => textDocument(p, []),
  onWillSaveTextDocumentWaitUntil: (p) => textDocument(p, []),
  onDidSaveTextDocument: (p) => {
    const problem = textDocument(p, []);
    if (problem) return problem;
    const text = (p as Record<string, unknown>).text;
    return text === undefined || typeof text === 'string' ? undefined : `text is ${kind(text)}, expected a string`;
  },
};

const METHOD: Record<string, string> = {
  onDidOpenTextDocument: 'textDocument/didOpen',
  onDidChangeTextDocument: 'textDocument/didChange',
  onDidCloseTextDocument: 'textDocument/didClose',
  onWillSaveTextDocument: 'textDocument/willSave',
  onWillSaveTextDocumentWaitUntil: 'textDocument/willSaveWaitUntil',
  onDidSaveTextDocument: 'textDocument/didSave',
};

function validRange(r: unknown): boolean {
  const pos = (p: unknown) => isObj(p) && Number.isSafeInteger(p.line) && Number.isSafeInteger(p.character);
  return isObj(r) && pos(r.start) && pos(r.end);
}

/**
 * The connection as TextDocuments.listen sees it: document-sync handlers only run for
 * well-formed params; the others are reported through `reject`.
 */
export function guardedDocumentSync(connection: Connection, reject: (message: string) => void): Connection {
  return new Proxy(connection, {
    get(target, prop, receiver) {
      const check = typeof prop === 'string' ? checks[prop] : undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (!check || typeof value !== 'function') return value;
      return (handler: (params: unknown, ...rest: unknown[]) => unknown) =>
        (value as (h: typeof handler) => unknown).call(target, (params: unknown, ...rest: unknown[]) => {
          const problem = check(params);
          if (problem) {
            reject(`ignored ${METHOD[prop as string]}: ${problem}`);
            return prop === 'onWillSaveTextDocumentWaitUntil' ? [] : undefined;
          }
          return handler(params, ...rest);
        });
    },
  });
}
