// The app package shares its name with one of its dependencies (as an app named `dioxus-desktop`
// depending on the `dioxus-desktop` crate): `cargo rustc -p <name>` is ambiguous there, so the fat
// build must name the package by the spec cargo metadata gives.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fatBuild, FatBuildRequest } from '../../../server/src/engine';
import { loadWorkspace } from '../../../server/src/workspace/cargo-workspace';
import { tempProject, removeDir } from '../../support/fixtures';

describe('engine: an app package named like its dependency', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  let dir: string;
  after(() => dir && removeDir(dir));

  it('the fat build names the package unambiguously (by name alone cargo refuses)', async () => {
    dir = tempProject({
      'app/Cargo.toml': '[workspace]\n[package]\nname = "twin"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nother_twin = { package = "twin", path = "../dep" }\n',
      'app/src/main.rs': 'fn main() { println!("{}", other_twin::seven()); }\n',
      'dep/Cargo.toml': '[package]\nname = "twin"\nversion = "0.2.0"\nedition = "2021"\n',
      'dep/src/lib.rs': 'pub fn seven() -> u32 { 7 }\n',
    });
    const load = await loadWorkspace(path.join(dir, 'app', 'Cargo.toml'));
    assert.ok(load.ok, !load.ok ? load.message : '');
    const ws = load.model;
    const bin = ws.bins()[0];
    assert.equal(bin.packageName, 'twin');
    const req: FatBuildRequest = {
      manifestPath: ws.manifestPath,
      workspaceRoot: ws.workspaceRoot,
      targetDir: ws.targetDir,
      packageName: bin.packageName,
      binName: bin.binName,
      workspaceCrates: ws.crateGraph(bin),
      sessionDir: path.join(ws.targetDir, 'subsecond-lsp', bin.binName),
    };
    // the package's bare name is really ambiguous here (what the fat build passed before)
    const byName = await fatBuild(req);
    assert.equal(byName.ok, false);
    assert.match(!byName.ok ? byName.message : '', /ambiguous/);

    const lines: string[] = [];
    const bySpec = await fatBuild({ ...req, packageSpec: bin.packageSpec, onLine: (l) => lines.push(l) });
    if (!bySpec.ok) assert.fail(`fat build failed: ${bySpec.message}\n${lines.join('\n')}`);
    assert.equal(bySpec.build.tipCrate, 'twin');
    assert.ok(bySpec.build.records['twin.bin'], Object.keys(bySpec.build.records).join(', '));
  });
});
