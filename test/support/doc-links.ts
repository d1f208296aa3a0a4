// Following a diagnostic's `codeDescription.href` as an editor would: a `file:` URI must name a
// markdown file that exists and holds a heading whose GitHub-style anchor is the fragment.
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped, spaces → -. */
export function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

/** Opens a `file:` href: the file it names and its heading matching the fragment; throws if either is missing. */
export function openDocHref(href: string): { file: string; heading: string } {
  const url = new URL(href);
  if (url.protocol !== 'file:') throw new Error(`${href} is not a file: URI`);
  const fragment = decodeURIComponent(url.hash.slice(1));
  url.hash = '';
  const file = fileURLToPath(url);
  if (!fs.existsSync(file)) throw new Error(`${href}: ${file} does not exist`);
  if (!fragment) throw new Error(`${href} names no section`);
  const heading = [...fs.readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]).find((h) => anchor(h) === fragment);
  if (heading === undefined) throw new Error(`${href}: ${file} has no heading with the anchor "${fragment}"`);
  return { file, heading };
}
