#!/usr/bin/env node
// Thin launcher. Installed from npm, the compiled code is in the package's dist/ (built by
// `prepack`). In the repository, dist/ exists only while `npm pack` runs; the code is the root
// build's out/ (compiled by the `prepare` script that `npm ci` runs).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const packaged = path.join(__dirname, '..', 'dist', 'cli.js');
const repository = path.join(__dirname, '..', '..', 'out', 'server', 'src', 'cli.js');
require(fs.existsSync(packaged) ? packaged : repository).main(process.argv.slice(2));
