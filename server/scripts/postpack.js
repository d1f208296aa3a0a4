#!/usr/bin/env node
// Removes what prepack.js created, so the repository's bin keeps running the out/ build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
fs.rmSync(path.join(pkgDir, 'dist'), { recursive: true, force: true });
fs.rmSync(path.join(pkgDir, 'LICENSE'), { force: true });
fs.rmSync(path.join(pkgDir, 'docs'), { recursive: true, force: true });
