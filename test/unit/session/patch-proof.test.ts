// Proof before the claim: the analysis' changed functions are matched against the symbol names of
// a real rustc-built executable, in both manglings (legacy, stable rustc's default, and v0,
// nightly's default since 2025-11-21); a changed function with running code but no jump-table
// entry is named, never counted as live.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import { FatSymbols } from '../../../server/src/engine/symbols';
import { locateInPackage, provePatch, ChangedFunctionRef } from '../../../server/src/session/patch-proof';
import type { WorkspacePackage } from '../../../server/src/workspace/cargo-workspace';
import { sh, tmpDir, cleanupTmp } from '../engine/helpers';

const SOURCE = `mod model {
    pub struct Panel<T>(pub T);
    pub struct Circle;
    #[inline(never)]
    pub fn helper() -> usize { 1 }
    #[allow(dead_code)]
    pub fn never_called<T: Default>() -> T { T::default() }
    #[inline(never)]
    pub fn pick<T: Copy>(x: T) -> T { x }
}
mod ui {
    use crate::model::{Circle, Panel};
    pub trait Shape { fn name(&self) -> &'static str; }
    impl<T> Panel<T> { #[inline(never)] pub fn draw(&self) -> usize { 1 } }
    impl Circle { #[inline(never)] pub fn area(&self) -> usize { 2 } }
    impl Shape for Circle { fn name(&self) -> &'static str { "circle" } }
}
fn main() {
    use ui::Shape;
    let s: Box<dyn Shape> = Box::new(model::Circle);
    println!("{} {} {} {} {}", model::Panel(3u8).draw(), model::Circle.area(), s.name(), model::helper(), model::pick(4u8));
}
`;

/** Every function body above changed (a different literal), as a save would. */
const EDITED = SOURCE.replace('{ 1 }\n    #[allow', '{ 10 }\n    #[allow')
  .replace('T::default() }', 'let t = T::default(); t }')
  .replace('usize { 1 } }', 'usize { 11 } }')
  .replace('usize { 2 } }', 'usize { 12 } }')
  .replace('"circle"', '"round"')
  .replace('T { x }', 'T { let y = x; y }');

for (const mangling of ['legacy', 'v0'] as const) describe(`session: proof that changed functions are in the patch (${mangling} symbols)`, function () {
  this.timeout(120_000);
  let fatNames: string[];
  let changed: ChangedFunctionRef[];
  const pkg: WorkspacePackage = {
    name: 'm',
    spec: 'm',
    manifestPath: '/ws/m/Cargo.toml',
    rootDir: '/ws/m',
    targets: [{ name: 'm', crateName: 'm', kind: ['bin'], srcPath: '/ws/m/src/main.rs' }],
    workspaceDeps: [],
  };

  before(async () => {
    const dir = tmpDir('proof');
    fs.writeFileSync(path.join(dir, 'm.rs'), SOURCE);
    sh('rustc', ['-g', '-C', 'opt-level=0', ...(mangling === 'v0' ? ['-C', 'symbol-mangling-version=v0'] : []), 'm.rs', '-o', 'm'], { cwd: dir });
    fatNames = [...FatSymbols.fromFile(path.join(dir, 'm')).functionNames()];
    assert.ok(fatNames.some((n) => n.startsWith(mangling === 'v0' ? '_RNv' : '_ZN1m')), `${mangling} names in the executable`);
    const a = await PatchabilityAnalyzer.create();
    a.update('/ws/m/src/main.rs', SOURCE);
    a.update('/ws/m/src/main.rs', EDITED);
    changed = a.changedFunctions('/ws/m/src/main.rs').map((fn) => {
      const homes = locateInPackage(pkg, fn.file);
      return { fn, crates: homes.map((h) => h.crate), modulePrefixes: homes.map((h) => h.modulePrefix) };
    });
    assert.deepEqual(changed.map((c) => c.fn.item).sort(), ['ui::Circle::area', 'ui::Circle::name', 'ui::Panel::draw', 'model::helper', 'model::pick', 'model::never_called'].sort());
  });
  after(cleanupTmp);

  it('every changed function with code in the app is live when the jump table maps its symbol', () => {
    const proof = provePatch(changed, { fat: fatNames, mapped: fatNames, defined: fatNames, rebuiltCrates: ['m'] });
    assert.equal(proof.verified, true);
    assert.deepEqual(proof.live.sort(), ['`model::helper`', '`model::pick`', '`ui::Circle::area`', '`ui::Circle::name`', '`ui::Panel::draw`']);
    assert.deepEqual(proof.noCode, ['`model::never_called`'], 'a generic never instantiated has no code of its own');
    assert.deepEqual(proof.missing, []);
  });

  it('a changed function the app runs but the jump table does not map is missing, with the reason', () => {
    const withoutArea = fatNames.filter((n) => !n.includes('4area'));
    assert.equal(withoutArea.length, fatNames.length - 1, 'one symbol of area');
    const proof = provePatch(changed, { fat: fatNames, mapped: withoutArea, defined: withoutArea, rebuiltCrates: ['m'] });
    assert.deepEqual(proof.missing, [{ name: '`ui::Circle::area`', reason: 'the patch does not define it' }]);
    const ambiguous = provePatch(changed, { fat: fatNames, mapped: withoutArea, defined: fatNames, rebuiltCrates: ['m'] });
    assert.match(ambiguous.missing[0].reason, /cannot tell which running copy/);
  });

  it('nothing is live from a crate that was not rebuilt, even if same-named symbols are mapped', () => {
    const proof = provePatch(changed, { fat: fatNames, mapped: fatNames, defined: fatNames, rebuiltCrates: ['other'] });
    assert.deepEqual(proof.live, []);
    assert.equal(proof.missing.length, changed.length);
    assert.match(proof.missing[0].reason, /crate `m` was not rebuilt/);
  });

  it('closures do not stand in for their function', () => {
    const closures = fatNames.filter((n) => n.includes('closure'));
    const proof = provePatch(changed, { fat: fatNames, mapped: closures, defined: closures, rebuiltCrates: ['m'] });
    assert.deepEqual(proof.live, []);
  });

  it('says nothing was proven when the executable names no symbol of the crate it can read', () => {
    const proof = provePatch(changed, { fat: ['main', '_ZN5other4main17h0123456789abcdefE', '_RNvCs123_5other4main', 'm_main'], mapped: [], defined: [], rebuiltCrates: ['m'] });
    assert.equal(proof.verified, false);
    assert.match(proof.unverifiedReason ?? '', /no symbol of `m`/);
    assert.deepEqual(proof.live, []);
    assert.deepEqual(proof.missing, []);
  });

  it('a generic function is live through any of its instances, and only its own', () => {
    const pick = fatNames.filter((n) => n.includes('4pick'));
    assert.ok(pick.length > 0);
    const proof = provePatch(changed, { fat: fatNames, mapped: pick, defined: pick, rebuiltCrates: ['m'] });
    assert.deepEqual(proof.live, ['`model::pick`']);
  });

  it('locates files in their crates: roots, modules, mod.rs, and lib + bin sharing src/', () => {
    const both: WorkspacePackage = {
      ...pkg,
      targets: [
        { name: 'm', crateName: 'm', kind: ['lib'], srcPath: '/ws/m/src/lib.rs' },
        { name: 'm', crateName: 'm', kind: ['bin'], srcPath: '/ws/m/src/main.rs' },
        { name: 'tool', crateName: 'tool', kind: ['bin'], srcPath: '/ws/m/src/bin/tool.rs' },
      ],
    };
    assert.deepEqual(locateInPackage(both, '/ws/m/src/lib.rs'), [{ crate: 'm', modulePrefix: 'm' }]);
    assert.deepEqual(locateInPackage(both, '/ws/m/src/main.rs'), [{ crate: 'm', modulePrefix: 'm' }]);
    assert.deepEqual(locateInPackage(both, '/ws/m/src/ledger/mod.rs'), [{ crate: 'm', modulePrefix: 'm::ledger' }]);
    assert.deepEqual(locateInPackage(both, '/ws/m/src/ledger/rates.rs'), [{ crate: 'm', modulePrefix: 'm::ledger::rates' }]);
    assert.deepEqual(locateInPackage(both, '/ws/m/src/bin/tool.rs'), [{ crate: 'tool', modulePrefix: 'tool' }]);
  });
});
