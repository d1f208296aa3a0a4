#!/usr/bin/env node
// `npm pack` / `npm publish` of the subsecond-lsp package: compiles server/src into dist/ and puts
// the Rust grammar's wasm (with its licence), the debuginfo and rsx-templates modules' wasm, the project licence and
// the public docs (docs/: the finding codes every diagnostic links to, configuration, protocol)
// inside the package, so an
// installed copy needs nothing from the repository. postpack.js removes what this creates.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const pkgDir = path.resolve(__dirname, '..');
const dist = path.join(pkgDir, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(pkgDir, 'tsconfig.json')], { stdio: 'inherit' });

const grammarPkg = path.dirname(require.resolve('tree-sitter-rust/package.json'));
const grammarDir = path.join(dist, 'grammar');
fs.mkdirSync(grammarDir, { recursive: true });
fs.copyFileSync(path.join(grammarPkg, 'tree-sitter-rust.wasm'), path.join(grammarDir, 'tree-sitter-rust.wasm'));
fs.copyFileSync(path.join(grammarPkg, 'LICENSE'), path.join(grammarDir, 'LICENSE.tree-sitter-rust'));
fs.copyFileSync(path.join(pkgDir, '..', 'LICENSE'), path.join(pkgDir, 'LICENSE'));
fs.rmSync(path.join(pkgDir, 'docs'), { recursive: true, force: true });
fs.cpSync(path.join(pkgDir, '..', 'docs'), path.join(pkgDir, 'docs'), { recursive: true });

// The debuginfo module (symbol names, DWARF layouts): built from debuginfo/ with cargo.
// The rsx-templates module (Dioxus rsx! template updates; loaded only for Dioxus apps): rsx-templates/.
const { built, builtRsxTemplates } = require('./build-debuginfo.js');
fs.mkdirSync(path.join(dist, 'wasm'), { recursive: true });
fs.copyFileSync(built, path.join(dist, 'wasm', 'subsecond_debuginfo.wasm'));
fs.copyFileSync(builtRsxTemplates, path.join(dist, 'wasm', 'subsecond_rsx_templates.wasm'));
