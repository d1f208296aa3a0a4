#!/usr/bin/env node
// Copies the built language server and its production dependencies into ./server, so the packaged
// extension runs it with VS Code's own Node and needs no separate install (run by vsce through
// `vscode:prepublish`). Needs the repository built first: `npm ci` at the repository root.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const extensionDir = path.resolve(__dirname, '..');
const repo = path.resolve(extensionDir, '..', '..');
const bundle = path.join(extensionDir, 'server');
const compiled = path.join(repo, 'out', 'server', 'src');

function fail(message) {
  console.error(`bundle-server: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(compiled, 'cli.js'))) fail(`${compiled}/cli.js is missing: run \`npm ci\` at ${repo} first`);

fs.rmSync(bundle, { recursive: true, force: true });

// The compiled server, at the same relative place as in the repository (out/server/src).
fs.cpSync(compiled, path.join(bundle, 'out', 'server', 'src'), {
  recursive: true,
  filter: (src) => fs.statSync(src).isDirectory() || src.endsWith('.js'),
});
// Its package.json (the server reports this version) and a launcher for the bundled layout.
fs.copyFileSync(path.join(repo, 'server', 'package.json'), path.join(bundle, 'package.json'));
fs.mkdirSync(path.join(bundle, 'bin'));
fs.writeFileSync(
  path.join(bundle, 'bin', 'subsecond-lsp.js'),
  "#!/usr/bin/env node\n// The bundled server's launcher (written by scripts/bundle-server.js).\nrequire('../out/server/src/cli.js').main(process.argv.slice(2));\n",
  { mode: 0o755 },
);

// The server's production dependencies as npm installed them for the repository, copied from its
// node_modules (hoisted at the root or nested under server/), so the versions are the lockfile's.
const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '--workspace', 'server'], { cwd: repo, encoding: 'utf8' })
  .split('\n')
  .map((l) => l.trim())
  .filter(Boolean);
const roots = [path.join(repo, 'node_modules') + path.sep, path.join(repo, 'server', 'node_modules') + path.sep];
// The server parses with web-tree-sitter and the grammar's wasm; tree-sitter-rust's native binding
// (its sources, prebuilds and build helpers) is never loaded.
const NATIVE_BUILD_ONLY = new Set(['node-addon-api', 'node-gyp-build']);
const KEEP_ONLY = { 'tree-sitter-rust': new Set(['package.json', 'LICENSE', 'tree-sitter-rust.wasm']) };
const placed = new Map();
for (const dir of listed) {
  const root = roots.find((r) => dir.startsWith(r));
  if (!root) continue; // the repository and the server workspace themselves
  const rel = dir.slice(root.length);
  if (rel === 'subsecond-lsp' || NATIVE_BUILD_ONLY.has(rel)) continue; // the workspace link to server/; see above
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const seen = placed.get(rel);
  if (seen && seen !== pkg.version) fail(`two versions of ${rel} (${seen}, ${pkg.version}) would land in one place`);
  placed.set(rel, pkg.version);
  fs.cpSync(dir, path.join(bundle, 'node_modules', rel), {
    recursive: true,
    // nested dependencies are listed (and copied) on their own
    filter: (src) => {
      const top = path.relative(dir, src).split(path.sep)[0];
      return top !== 'node_modules' && (top === '' || !KEEP_ONLY[rel] || KEEP_ONLY[rel].has(top));
    },
  });
}
for (const need of ['vscode-languageserver', 'web-tree-sitter', 'tree-sitter-rust']) {
  if (!placed.has(need)) fail(`${need} was not found among the server's dependencies (npm ls)`);
}
console.log(`bundle-server: ${bundle} (${placed.size} packages)`);
