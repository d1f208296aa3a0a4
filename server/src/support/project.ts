// Where the documentation a diagnostic links to (`codeDescription.href`) lives. The project has
// no public home the package could name, so the docs travel with it: the npm package ships docs/
// (server/scripts/prepack.js copies it in), and every link leads to the copy beside the running
// server, a `file:` URI of the section (`file:///…/docs/findings.md#struct-layout-changed`).
// A real home, once there is one, is configured: the `docsUrl` setting or SUBSECOND_LSP_DOCS_URL,
// the URL of the docs directory (findings.md is appended).
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { docsDir } from './package-files';

export const DOCS_URL_ENV = 'SUBSECOND_LSP_DOCS_URL';

/** A docs home as typed: an absolute http(s) or file URL (of the docs directory). */
export function isDocsUrl(value: string): boolean {
  try {
    return ['http:', 'https:', 'file:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

let shipped: string | null | undefined;

/** The docs directory as a URL ending in `/`: configured, else the shipped copy; undefined if neither exists. */
export function docsBaseUrl(configured?: string): string | undefined {
  const env = process.env[DOCS_URL_ENV];
  const home = configured || (env && isDocsUrl(env) ? env : undefined);
  if (home) return home.endsWith('/') ? home : `${home}/`;
  if (shipped === undefined) {
    const dir = docsDir();
    shipped = dir ? pathToFileURL(dir + path.sep).toString() : null;
  }
  return shipped ?? undefined;
}

/** The section of findings.md that explains a finding code, or undefined when no docs can be found. */
export function findingDocUrl(code: string, configured?: string): string | undefined {
  const base = docsBaseUrl(configured);
  return base ? new URL(`findings.md#${code}`, base).toString() : undefined;
}
