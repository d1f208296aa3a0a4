// A package with a library and a binary that share one crate name (`lib-bin` → `lib_bin`), built
// for real: the fat build records both rustc calls and links the library whole; rustc's dep-info
// tells which files (modules, include_str! data) each crate read; a thin build of the library
// replays it before the binary and the patch carries the library's code.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crateInputsOf, fatBuild, FatBuild, PatchBuilder, depInfoPath, parseDepInfo } from '../../../server/src/engine';
import { ElfFile } from '../../../server/src/engine/elf';
import { loadWorkspace } from '../../../server/src/workspace/cargo-workspace';
import { tempProject, removeDir } from '../../support/fixtures';

describe('engine: a lib + bin package', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  let dir: string;
  let fat: FatBuild;

  before(async function () {
    dir = tempProject({
      'Cargo.toml': '[workspace]\n[package]\nname = "lib-bin"\nversion = "0.1.0"\nedition = "2021"\n',
      'src/lib.rs': 'pub mod pricing;\n#[inline(never)]\npub fn lib_message() -> &\'static str { include_str!("../data/motd.txt") }\n',
      'src/pricing.rs': '#[inline(never)]\npub fn price() -> u32 { 1 }\n',
      'src/main.rs': 'mod view;\nfn main() { println!("{} {} {}", lib_bin::lib_message(), lib_bin::pricing::price(), view::view()); }\n',
      'src/view.rs': '#[inline(never)]\npub fn view() -> u32 { 2 }\n',
      'data/motd.txt': 'motd-v1',
    });
    const load = await loadWorkspace(path.join(dir, 'Cargo.toml'));
    assert.ok(load.ok, !load.ok ? load.message : '');
    const ws = load.model;
    const bin = ws.bins()[0];
    const lines: string[] = [];
    const r = await fatBuild({
      manifestPath: ws.manifestPath,
      workspaceRoot: ws.workspaceRoot,
      targetDir: ws.targetDir,
      packageName: bin.packageName,
      binName: bin.binName,
      workspaceCrates: ws.crateGraph(bin),
      sessionDir: path.join(ws.targetDir, 'subsecond-lsp', bin.binName),
      onLine: (l) => lines.push(l),
    });
    if (!r.ok) assert.fail(`fat build failed: ${r.message}\n${lines.join('\n')}`);
    fat = r.build;
  });
  after(() => dir && removeDir(dir));

  it('records the library and the binary apart, and links the library whole', () => {
    assert.equal(fat.tipCrate, 'lib_bin');
    assert.ok(fat.records['lib_bin.lib'], Object.keys(fat.records).join(', '));
    assert.ok(fat.records['lib_bin.bin'], Object.keys(fat.records).join(', '));
    assert.ok(fat.link.wholeArchived.some((p) => /liblib_bin-[0-9a-f]+\.rlib$/.test(p)), fat.link.wholeArchived.join('\n'));
  });

  it("dep-info says which files each crate read: the library's modules and data, the binary's own", () => {
    const inputs = crateInputsOf(fat.records);
    const rel = (files: string[]) => files.map((f) => path.relative(dir, f)).sort();
    assert.deepEqual(rel(inputs['lib_bin.lib']), ['data/motd.txt', 'src/lib.rs', 'src/pricing.rs']);
    assert.deepEqual(rel(inputs['lib_bin.bin']), ['src/main.rs', 'src/view.rs']);
    assert.ok(depInfoPath(fat.records['lib_bin.lib'])!.endsWith('.d'));
    assert.deepEqual(parseDepInfo('out\\ dir/x.rlib: src/a\\ b.rs /abs/c.txt\n\nsrc/a\\ b.rs:\n# env-dep:X=1\n', '/w'), ['/w/src/a b.rs', '/abs/c.txt']);
  });

  it('a thin build of the library replays it before the binary, and the patch carries its new code', async () => {
    fs.writeFileSync(path.join(dir, 'data', 'motd.txt'), 'motd-v2');
    const builder = new PatchBuilder(fat);
    const r = await builder.build({ changedCrates: ['lib_bin'], aslrReference: fat.symbols.mainAddress });
    if (!r.ok) assert.fail(`patch failed at ${r.stage}: ${r.message}`);
    assert.deepEqual(r.crates, ['lib_bin', 'lib_bin'], 'the lib, then the tip');
    const so = ElfFile.open(r.soPath);
    try {
      const names = (so.symtab() ?? []).map((s) => s.name);
      assert.ok(names.some((n) => n.includes('lib_message')), 'the library function is in the patch');
      assert.ok(names.some((n) => n.includes('4view')), "the binary's module is in the patch");
    } finally {
      so.close();
    }
    assert.ok(Object.keys(r.jumpTable.map).length > 0);
  });
});
