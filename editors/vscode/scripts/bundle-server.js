#!/usr/bin/env node
// Puts the language server inside the extension (./server), so the packaged extension runs it with
// VS Code's own Node and needs no separate install (run by vsce through `vscode:prepublish`).
// The server is the subsecond-lsp npm package as `npm pack` makes it (compiled code and the Rust
// grammar inside); its production dependencies are copied from the repository's node_modules, so
// their versions are the lockfile's. Needs `npm ci` at the repository root first.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const extensionDir = path.resolve(__dirname, '..');
const repo = path.resolve(extensionDir, '..', '..');
const bundle = path.join(extensionDir, 'server');

function fail(message) {
  console.error(`bundle-server: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(repo, 'node_modules', 'typescript'))) fail(`run \`npm ci\` at ${repo} first`);

// The package exactly as `npm pack` ships it.
const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-pack-'));
try {
  const out = execFileSync('npm', ['pack', '--json', '--workspace', 'server', '--pack-destination', packDir], { cwd: repo, encoding: 'utf8' });
  const tarball = path.join(packDir, JSON.parse(out)[0].filename);
  fs.rmSync(bundle, { recursive: true, force: true });
  fs.mkdirSync(bundle);
  execFileSync('tar', ['xzf', tarball, '-C', bundle, '--strip-components=1']);
} finally {
  fs.rmSync(packDir, { recursive: true, force: true });
}
if (!fs.existsSync(path.join(bundle, 'dist', 'cli.js'))) fail('the packed server has no dist/cli.js');

// Its production dependencies, hoisted at the root or nested under server/, flattened into the
// bundle's node_modules the way npm laid them out.
const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '--workspace', 'server'], { cwd: repo, encoding: 'utf8' })
  .split('\n')
  .map((l) => l.trim())
  .filter(Boolean);
const roots = [path.join(repo, 'node_modules') + path.sep, path.join(repo, 'server', 'node_modules') + path.sep];
const placed = new Map();
for (const dir of listed) {
  const root = roots.find((r) => dir.startsWith(r));
  if (!root) continue; // the repository and the server workspace themselves
  const rel = dir.slice(root.length);
  if (rel === 'subsecond-lsp') continue; // the workspace link to server/
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const seen = placed.get(rel);
  if (seen && seen !== pkg.version) fail(`two versions of ${rel} (${seen}, ${pkg.version}) would land in one place`);
  placed.set(rel, pkg.version);
  fs.cpSync(dir, path.join(bundle, 'node_modules', rel), {
    recursive: true,
    // nested dependencies are listed (and copied) on their own
    filter: (src) => path.relative(dir, src).split(path.sep)[0] !== 'node_modules',
  });
}
for (const need of ['vscode-languageserver', 'web-tree-sitter']) {
  if (!placed.has(need)) fail(`${need} was not found among the server's dependencies (npm ls)`);
}
console.log(`bundle-server: ${bundle} (the packed server and ${placed.size} packages)`);
