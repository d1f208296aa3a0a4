// The debuginfo module (debuginfo/ compiled to wasm) demangles real rustc symbols of both
// manglings: legacy from this toolchain's default, v0 from `-C symbol-mangling-version=v0`.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demangleMany } from '../../../server/src/support/debuginfo';
import { readElf } from '../../../server/src/engine/elf';

/** Compiles a tiny crate `probe` and returns its symbol names. */
function symbolsOf(extraArgs: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-debuginfo-'));
  const src = path.join(dir, 'probe.rs');
  fs.writeFileSync(src, 'pub struct Ring<T>(pub T);\nimpl<T: Copy> Ring<T> { pub fn get(&self) -> T { self.0 } }\n#[inline(never)] pub fn tick(n: u32) -> u32 { let f = |x: u32| x + 1; let g = |x: u32| x * 2; f(g(n)) + Ring(n).get() }\nfn main() { std::hint::black_box(tick(std::hint::black_box(3))); }\n');
  const out = path.join(dir, 'probe');
  execFileSync('rustc', ['--crate-name', 'probe', '-C', 'opt-level=0', ...extraArgs, src, '-o', out], { stdio: 'pipe' });
  const elf = readElf(out);
  const names = (elf.symtab() ?? []).map((s) => s.name).filter((n) => n.length > 0);
  elf.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return names;
}

describe('debuginfo module: symbol names', () => {
  it('demangles legacy and v0 symbols of real rustc output to the same paths', function () {
    this.timeout(60000);
    const readable = (args: string[]) => new Set(demangleMany(symbolsOf(args)));
    const legacy = readable([]);
    const v0 = readable(['-C', 'symbol-mangling-version=v0']);
    for (const names of [legacy, v0]) {
      assert.ok(names.has('probe::tick'), 'probe::tick');
      assert.ok(names.has('probe::Ring<T>::get') || [...names].some((n) => /^probe::Ring<u32>::get$|^<probe::Ring<u32>>::get$/.test(n)), [...names].filter((n) => n.includes('Ring')).join(', '));
    }
    // v0 numbers closures; legacy does not.
    assert.ok(v0.has('probe::tick::{closure#0}') && v0.has('probe::tick::{closure#1}'), [...v0].filter((n) => n.includes('closure')).join(', '));
    assert.ok(legacy.has('probe::tick::{{closure}}'), [...legacy].filter((n) => n.includes('closure')).join(', '));
  });

  it('returns names that are not Rust symbols unchanged, one line per name', () => {
    assert.deepEqual(demangleMany(['main', '', 'memcpy', '_ZN4core3ptr8null_mut17h0123456789abcdefE']), ['main', '', 'memcpy', 'core::ptr::null_mut']);
    assert.deepEqual(demangleMany([]), []);
  });
});
