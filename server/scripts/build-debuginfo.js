#!/usr/bin/env node
// Builds the subsecond-debuginfo crate (debuginfo/: rustc-demangle, gimli, object) to WebAssembly.
// Part of `npm run build` and of `npm pack` (prepack.js ships the result in dist/wasm/). cargo is
// its own staleness check: a build with nothing changed takes a fraction of a second.
// Needs the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const repo = path.resolve(__dirname, '..', '..');
const manifest = path.join(repo, 'debuginfo', 'Cargo.toml');
const built = path.join(repo, 'debuginfo', 'target', 'wasm32-unknown-unknown', 'release', 'subsecond_debuginfo.wasm');

const r = spawnSync('cargo', ['build', '--quiet', '--release', '--locked', '--target', 'wasm32-unknown-unknown', '--manifest-path', manifest], {
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
