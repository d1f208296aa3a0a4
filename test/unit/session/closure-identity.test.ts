// Closures keep their identity: for a function whose closures were reshaped (one inserted before
// another), every entry named after one of its closures is found in a real rustc-built
// executable, in both manglings, and left out of the jump table and the detour plan; the
// function itself and other functions' closures stay.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import { demangleAll } from '../../../server/src/engine/demangle';
import { FatSymbols } from '../../../server/src/engine/symbols';
import { closuresToLeave, withoutAddresses } from '../../../server/src/session/closure-identity';
import { locateInPackage, ChangedFunctionRef } from '../../../server/src/session/patch-proof';
import type { WorkspacePackage } from '../../../server/src/workspace/cargo-workspace';
import { sh, tmpDir, cleanupTmp } from '../engine/helpers';

const SOURCE = `pub struct Holder { pub f: Box<dyn Fn(u32) -> u32> }
#[inline(never)]
fn build_world(k: u32) -> Holder {
    let a = move |x: u32| x + k;
    Holder { f: Box::new(move |y| a(y) * 2) }
}
#[inline(never)]
fn other() -> u32 { let c = || 7; c() }
fn main() {
    let h = build_world(std::hint::black_box(1));
    println!("{} {}", (h.f)(3), other());
}
`;
const INSERTED = SOURCE.replace('    let a = move', '    let z = |s: &str| s.len() as u32;\n    let a = move').replace('a(y) * 2', 'a(y) * 2 + z("q")');

const pkg: WorkspacePackage = {
  name: 'w', spec: 'w', manifestPath: '/ws/w/Cargo.toml', rootDir: '/ws/w',
  targets: [{ name: 'w', crateName: 'w', kind: ['bin'], srcPath: '/ws/w/src/main.rs' }],
  workspaceDeps: [],
};

async function changedFrom(before: string, after: string): Promise<ChangedFunctionRef[]> {
  const a = await PatchabilityAnalyzer.create();
  a.update('/ws/w/src/main.rs', before);
  a.update('/ws/w/src/main.rs', after);
  return a.changedFunctions('/ws/w/src/main.rs').map((fn) => {
    const homes = locateInPackage(pkg, fn.file);
    return { fn, crates: homes.map((h) => h.crate), modulePrefixes: homes.map((h) => h.modulePrefix) };
  });
}

for (const mangling of ['legacy', 'v0'] as const) describe(`session: closures keep their identity (${mangling} symbols)`, function () {
  this.timeout(120_000);
  let fat: FatSymbols;
  let readableAt: Map<number, string[]>;

  before(() => {
    const dir = tmpDir('closures');
    fs.writeFileSync(path.join(dir, 'w.rs'), SOURCE);
    sh('rustc', ['-C', 'opt-level=0', ...(mangling === 'v0' ? ['-C', 'symbol-mangling-version=v0'] : []), 'w.rs', '-o', 'w'], { cwd: dir });
    fat = FatSymbols.fromFile(path.join(dir, 'w'));
    const names = [...fat.functionNames()];
    const readable = demangleAll(names);
    readableAt = new Map();
    names.forEach((n, i) => {
      for (const a of fat.functionAddresses(n) ?? []) readableAt.set(a, [...(readableAt.get(a) ?? []), readable[i]]);
    });
  });
  after(cleanupTmp);

  it('leaves out every entry named after a closure of the reshaped function, and nothing else', async () => {
    const changed = await changedFrom(SOURCE, INSERTED);
    const fn = changed.find((c) => c.fn.name === 'build_world');
    assert.ok(fn?.fn.closuresReshaped, 'the analysis sees the inserted closure');
    const left = closuresToLeave(changed, fat);
    assert.deepEqual(left.functions, ['`build_world`']);
    const leftNames = [...left.addresses].flatMap((a) => readableAt.get(a) ?? []);
    const closureNames = [...readableAt.values()].flat().filter((n) => /build_world::\{/.test(n));
    // v0 names trait shims after the closure too (`<w::build_world::{closure#1} as FnOnce<(u32,)>>::call_once`)
    assert.ok(closureNames.length >= (mangling === 'v0' ? 3 : 2), `closure bodies and what is named after them: ${closureNames.join(', ')}`);
    for (const n of closureNames) assert.ok(leftNames.includes(n), `${n} is left out`);
    for (const n of leftNames) assert.match(n, /build_world::\{/, `${n} is one of them`);
  });

  it('leaves everything to the patch when the closures kept their order', async () => {
    const changed = await changedFrom(SOURCE, SOURCE.replace('a(y) * 2', 'a(y) * 3'));
    assert.equal(changed.find((c) => c.fn.name === 'build_world')?.fn.closuresReshaped, false);
    assert.equal(closuresToLeave(changed, fat).addresses.size, 0);
  });

  it('copies the table and the plan without those addresses', () => {
    const table = { lib: '/p.so', map: { '4096': 1, '8192': 2, '12288': 3 }, aslr_reference: 4096, new_base_address: 1, ifunc_count: 0 };
    const plan = {
      entries: [[8192, 10, 2, 10, 'a'], [12288, 10, 3, 10, 'b']] as Array<[number, number, number, number, string]>,
      unchanged: ['a'],
      changes: [{ from: 8192, name: 'a', signature: undefined }, { from: 12288, name: 'b', signature: undefined }],
    };
    const out = withoutAddresses(table, plan, new Set([8192]));
    assert.deepEqual(out.table.map, { '4096': 1, '12288': 3 });
    assert.deepEqual(out.plan.entries, [[12288, 10, 3, 10, 'b']]);
    assert.deepEqual(out.plan.unchanged, [], 'an entry left out is neither rewritten nor recorded');
    assert.deepEqual(out.plan.changes.map((c) => c.name), ['b'], 'only what was sent is settled');
    assert.deepEqual(Object.keys(table.map).length, 3, 'the build result is not changed');
  });
});
