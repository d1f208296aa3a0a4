// Throwaway cargo projects for tests, written into a fresh temp dir (never the repo's files).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-lsp-test-'));
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
  }
  return fs.realpathSync(dir);
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export const SINGLE_PACKAGE_MANIFEST = `[package]
name = "demo"
version = "0.1.0"
edition = "2021"

[dependencies]
`;
