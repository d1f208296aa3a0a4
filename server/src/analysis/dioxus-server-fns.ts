// Dioxus server functions (fullstack): `#[server] async fn add(a: i32, b: i32) -> Result<i32>` and,
// in 0.7, the HTTP-method forms `#[post("/api/add")]`, `#[get("/api/items/:id")]`. The macro
// splits one function into two halves: the client half serializes the arguments and sends them
// to the route; the server half is registered at the server's start under that route and
// deserializes them. A patch reaches one process: the two halves would disagree about the
// arguments, the result or the route (and the server keeps its routes from its start). So a
// signature or route change requires a restart of both; a body change is an ordinary patch of
// the process that runs it (on desktop, the client only holds the call).
//
// Recognized syntactically. `#[server]` (any path) is always a server function; the method
// attributes (`get`, `post`, ...) are common to web frameworks, so they count only in a file that
// names `dioxus`.
import type { Draft } from './diff';
import type { ItemModel, Placed } from './model';

const METHOD_ATTR = /^(get|post|put|patch|delete)\b/;

function isServerFn(attr: string | undefined, fileNamesDioxus: () => boolean): attr is string {
  if (attr === undefined) return false;
  return !METHOD_ATTR.test(attr) || fileNamesDioxus();
}

export function serverFnChange(b: ItemModel, c: ItemModel, p: Placed, fileNamesDioxus: () => boolean): Draft | undefined {
  const bf = b.fn!;
  const cf = c.fn!;
  if (!isServerFn(cf.serverFn, fileNamesDioxus) || !isServerFn(bf.serverFn, fileNamesDioxus)) return undefined;
  const what: string[] = [];
  if (bf.sigKey !== cf.sigKey) what.push(`signature changed (\`${bf.sigDisplay}\` → \`${cf.sigDisplay}\`)`);
  if (bf.serverFn !== cf.serverFn) what.push(`attribute changed (\`#[${bf.serverFn}]\` → \`#[${cf.serverFn}]\`)`);
  if (!what.length) return undefined;
  return {
    code: 'server-fn-signature-changed',
    severity: 'restart',
    item: c.name,
    p,
    message:
      `server function \`${c.name}\`: ${what.join(', ')}: requires restart, its client half (which sends the arguments) and its server half ` +
      `(registered under its route when the server started) must match, and a patch reaches only one running process`,
  };
}
