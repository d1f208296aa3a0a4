// Where the files of the `subsecond-lsp` npm package are, whichever way the code runs:
//  - installed from the package: `<pkg>/dist/<module>/<file>.js`, `<pkg>/package.json`, the Rust
//    grammar at `<pkg>/dist/grammar/`, the debuginfo and rsx-templates modules at `<pkg>/dist/wasm/` and the docs at
//    `<pkg>/docs/` (put there by server/scripts/prepack.js);
//  - built in the repository: `<repo>/out/server/src/<module>/<file>.js`, `<repo>/server/package.json`,
//    the grammar from node_modules (tree-sitter-rust, a development dependency), the debuginfo
//    module where cargo builds it (`npm run build`: server/scripts/build-debuginfo.js), `<repo>/docs/`.
// Both layouts are fixed, so the candidates are two known paths, never a search up the tree
// (which could find an unrelated package.json).
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'subsecond-lsp';

const INSTALLED = path.resolve(__dirname, '..', '..');
const REPOSITORY = path.resolve(__dirname, '..', '..', '..', '..', 'server');

/** The directory holding the `subsecond-lsp` package.json, or undefined if neither layout matches. */
export function packageDir(): string | undefined {
  for (const dir of [INSTALLED, REPOSITORY]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return dir;
    } catch {
      /* not this layout */
    }
  }
  return undefined;
}

/** The tree-sitter-rust grammar (wasm, ABI 14): shipped inside the package, else the dev dependency's. */
export function rustGrammarWasm(): string {
  const shipped = path.join(__dirname, '..', 'grammar', 'tree-sitter-rust.wasm');
  if (fs.existsSync(shipped)) return shipped;
  return require.resolve('tree-sitter-rust/tree-sitter-rust.wasm');
}

/** The subsecond-debuginfo module (debuginfo/ compiled to wasm): shipped inside the package, else the repository's build. */
export function debuginfoWasm(): string {
  const shipped = path.join(__dirname, '..', 'wasm', 'subsecond_debuginfo.wasm');
  if (fs.existsSync(shipped)) return shipped;
  const built = path.resolve(REPOSITORY, '..', 'debuginfo', 'target', 'wasm32-unknown-unknown', 'release', 'subsecond_debuginfo.wasm');
  if (fs.existsSync(built)) return built;
  throw new Error(`the subsecond-debuginfo module is missing (${built}): run npm run build (it needs: rustup target add wasm32-unknown-unknown)`);
}

/** The subsecond-rsx-templates module (rsx-templates/ compiled to wasm; Dioxus apps only): shipped, else the repository's build. */
export function rsxTemplatesWasm(): string {
  const shipped = path.join(__dirname, '..', 'wasm', 'subsecond_rsx_templates.wasm');
  if (fs.existsSync(shipped)) return shipped;
  const built = path.resolve(REPOSITORY, '..', 'rsx-templates', 'target', 'wasm32-unknown-unknown', 'release', 'subsecond_rsx_templates.wasm');
  if (fs.existsSync(built)) return built;
  throw new Error(`the subsecond-rsx-templates module is missing (${built}): run npm run build (it needs: rustup target add wasm32-unknown-unknown)`);
}

/** The public docs (findings.md, configuration.md, protocol.md): `<pkg>/docs` installed, `<repo>/docs` in the repository. */
export function docsDir(): string | undefined {
  const pkg = packageDir();
  const dir = pkg === INSTALLED ? path.join(pkg, 'docs') : pkg === REPOSITORY ? path.join(pkg, '..', 'docs') : undefined;
  return dir && fs.existsSync(path.join(dir, 'findings.md')) ? path.resolve(dir) : undefined;
}
