// The package version, from the subsecond-lsp package.json (see package-files.ts for where it is).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageDir } from './package-files';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached) return cached;
  const dir = packageDir();
  try {
    if (dir) cached = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    /* unreadable: fall through */
  }
  return (cached ??= '0.0.0');
}
