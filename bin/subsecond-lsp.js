#!/usr/bin/env node
// Thin launcher: the compiled entry point lives in out/ (built by `npm ci` via the prepare script).
require('../out/server/src/cli.js').main(process.argv.slice(2));
