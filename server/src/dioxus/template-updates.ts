// dioxus/template-updates.ts — when an rsx! edit can reach a Dioxus app as a template update, as
// `dx serve` sends it (no build): the templates are made by rsx-templates/ with Dioxus 0.7.10's
// own diff (dioxus-rsx-hotreload), so the app's dioxus-core must read 0.7's format. A template is
// keyed by where its rsx! call starts in the text the running code was compiled from; the app's
// dioxus-core swaps it in for the rsx! whose `file!()`, `line!()`, `column!()` match, and a hot
// patch (a jump table for this build and pid) clears every template it was sent.
import * as path from 'node:path';
import type { DioxusApp } from './app-kind';

/** The Dioxus release whose template format rsx-templates/ writes (its Cargo.toml pins it). */
export const TEMPLATE_FORMAT_RELEASE = '0.7';

/** Why this app gets no template updates (its edits are hot-patched instead), or undefined. */
export function templateUpdatesProblem(app: DioxusApp): string | undefined {
  const v = app.coreVersion;
  if (!v) return 'dioxus-core is not in Cargo.lock';
  if (!v.startsWith(`${TEMPLATE_FORMAT_RELEASE}.`)) return `dioxus-core ${v} (templates are made in the ${TEMPLATE_FORMAT_RELEASE} format)`;
  return undefined;
}

/** The key's file: relative to the workspace root with '/' separators (rustc's `file!()` under cargo). */
export function templateFileName(workspaceRoot: string, file: string): string | undefined {
  const rel = path.relative(workspaceRoot, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}
