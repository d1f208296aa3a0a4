#!/usr/bin/env node
// Builds the server's Rust crates to WebAssembly: subsecond-debuginfo (debuginfo/: rustc-demangle,
// gimli, object) and subsecond-rsx-templates (rsx-templates/: Dioxus' rsx! template diff). Part of
// `npm run build` and of `npm pack` (prepack.js ships the results in dist/wasm/). cargo is its own
// staleness check: a build with nothing changed takes a fraction of a second.
// Needs the wasm32-unknown-unknown target: added with rustup when it is missing (so `npm ci && npm
// start` sets up a fresh machine), else the error says what to install.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const repo = path.resolve(__dirname, '..', '..');
const TARGET = 'wasm32-unknown-unknown';
// [crate directory, wasm file name]
const CRATES = [
  ['debuginfo', 'subsecond_debuginfo.wasm'],
  ['rsx-templates', 'subsecond_rsx_templates.wasm'],
];
const builtOf = (dir, file) => path.join(repo, dir, 'target', TARGET, 'release', file);
const built = builtOf(...CRATES[0]);
const builtRsxTemplates = builtOf(...CRATES[1]);

const installed = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
if (!installed.error && installed.status === 0 && !installed.stdout.split('\n').includes(TARGET)) {
  console.error(`build-debuginfo: adding the ${TARGET} target (rustup target add ${TARGET})`);
  spawnSync('rustup', ['target', 'add', TARGET], { stdio: 'inherit' });
}

for (const [dir, file] of CRATES) {
  const manifest = path.join(repo, dir, 'Cargo.toml');
  const r = spawnSync('cargo', ['build', '--quiet', '--release', '--locked', '--target', TARGET, '--manifest-path', manifest], {
    stdio: 'inherit',
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `cargo exited with ${r.status}`;
    console.error(
      `build-debuginfo: could not build ${dir}/ for WebAssembly (${why}).\n` +
        'It needs cargo and the wasm32-unknown-unknown target: rustup target add wasm32-unknown-unknown',
    );
    process.exit(1);
  }
  if (!fs.existsSync(builtOf(dir, file))) {
    console.error(`build-debuginfo: cargo succeeded but ${builtOf(dir, file)} is missing`);
    process.exit(1);
  }
}
module.exports = { built, builtRsxTemplates };
