#!/usr/bin/env node
// Thin launcher: the compiled entry point lives in the repository's out/ directory, built by the
// root `prepare` script that `npm ci` runs.
require('../../out/server/src/cli.js').main(process.argv.slice(2));
