// Where the files of the `subsecond-lsp` npm package are, whichever way the code runs:
//  - installed from the package: `<pkg>/dist/<module>/<file>.js`, `<pkg>/package.json`, the Rust
//    grammar at `<pkg>/dist/grammar/` and the debuginfo module at `<pkg>/dist/wasm/` (put there by
//    server/scripts/prepack.js);
//  - built in the repository: `<repo>/out/server/src/<module>/<file>.js`, `<repo>/server/package.json`,
//    the grammar from node_modules (tree-sitter-rust, a development dependency), the debuginfo
//    module where cargo builds it (`npm run build`: server/scripts/build-debuginfo.js).
// Both layouts are fixed, so the candidates are two known paths, never a search up the tree
// (which could find an unrelated package.json).
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'subsecond-lsp';

/** The directory holding the `subsecond-lsp` package.json, or undefined if neither layout matches. */
export function packageDir(): string | undefined {
  const installed = path.resolve(__dirname, '..', '..');
  const repository = path.resolve(__dirname, '..', '..', '..', '..', 'server');
  for (const dir of [installed, repository]) {
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
  const built = path.resolve(__dirname, '..', '..', '..', '..', 'debuginfo', 'target', 'wasm32-unknown-unknown', 'release', 'subsecond_debuginfo.wasm');
  if (fs.existsSync(built)) return built;
  throw new Error(`the subsecond-debuginfo module is missing (${built}): run npm run build (it needs: rustup target add wasm32-unknown-unknown)`);
}
