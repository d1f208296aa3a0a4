#!/usr/bin/env node
// Builds the subsecond-debuginfo crate (debuginfo/: rustc-demangle, gimli, object) to WebAssembly.
// Part of `npm run build` and of `npm pack` (prepack.js ships the result in dist/wasm/). cargo is
// its own staleness check: a build with nothing changed takes a fraction of a second.
// Needs the wasm32-unknown-unknown target: added with rustup when it is missing (so `npm ci && npm
// start` sets up a fresh machine), else the error says what to install.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const repo = path.resolve(__dirname, '..', '..');
const manifest = path.join(repo, 'debuginfo', 'Cargo.toml');
const built = path.join(repo, 'debuginfo', 'target', 'wasm32-unknown-unknown', 'release', 'subsecond_debuginfo.wasm');

const TARGET = 'wasm32-unknown-unknown';
const installed = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
if (!installed.error && installed.status === 0 && !installed.stdout.split('\n').includes(TARGET)) {
  console.error(`build-debuginfo: adding the ${TARGET} target (rustup target add ${TARGET})`);
  spawnSync('rustup', ['target', 'add', TARGET], { stdio: 'inherit' });
}

const r = spawnSync('cargo', ['build', '--quiet', '--release', '--locked', '--target', TARGET, '--manifest-path', manifest], {
  stdio: 'inherit',
});
if (r.error || r.status !== 0) {
  const why = r.error ? r.error.message : `cargo exited with ${r.status}`;
  console.error(
    `build-debuginfo: could not build debuginfo/ for WebAssembly (${why}).\n` +
      'It needs cargo and the wasm32-unknown-unknown target: rustup target add wasm32-unknown-unknown',
  );
  process.exit(1);
}
if (!fs.existsSync(built)) {
  console.error(`build-debuginfo: cargo succeeded but ${built} is missing`);
  process.exit(1);
}
module.exports = { built };
