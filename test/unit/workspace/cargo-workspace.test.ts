// The workspace model from real `cargo metadata`: members, targets, file → crate, dependency order.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { loadWorkspace, WorkspaceModel } from '../../../server/src/workspace/cargo-workspace';
import { tempProject, removeDir, SINGLE_PACKAGE_MANIFEST } from '../../support/fixtures';

describe('workspace model from cargo metadata', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('a workspace: members, bins, file → crate and dependencies first', async () => {
    const dir = tempProject({
      'Cargo.toml': '[workspace]\nmembers = ["app", "core-lib", "util"]\nresolver = "2"\n',
      'app/Cargo.toml': '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\ncore-lib = { path = "../core-lib" }\n',
      'app/src/main.rs': 'fn main() {}\n',
      'core-lib/Cargo.toml': '[package]\nname = "core-lib"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nutil = { path = "../util" }\n',
      'core-lib/src/lib.rs': 'pub fn f() {}\n',
      'util/Cargo.toml': '[package]\nname = "util"\nversion = "0.1.0"\nedition = "2021"\n',
      'util/src/lib.rs': 'pub fn g() {}\n',
    });
    dirs.push(dir);
    const load = await loadWorkspace(path.join(dir, 'Cargo.toml'));
    assert.ok(load.ok, !load.ok ? load.message : '');
    const ws: WorkspaceModel = load.model;
    assert.deepEqual(ws.packages.map((p) => p.name).sort(), ['app', 'core-lib', 'util']);
    assert.deepEqual(ws.bins(), [{ packageName: 'app', binName: 'app', crateName: 'app' }]);
    assert.equal(ws.packageForFile(path.join(dir, 'core-lib', 'src', 'lib.rs'))?.name, 'core-lib');
    assert.equal(ws.packageForFile(path.join(dir, 'app', 'src', 'deep', 'mod.rs'))?.name, 'app');
    assert.equal(ws.packageForFile(path.join(dir, 'app', 'target', 'x.rs')), undefined, 'target/ belongs to no crate');
    assert.equal(ws.crateNameOf(ws.package('core-lib')!), 'core_lib');
    assert.deepEqual(ws.dependencyOrder().map((p) => p.name), ['util', 'core-lib', 'app']);
    assert.deepEqual(ws.dependentsOf('util').map((p) => p.name).sort(), ['app', 'core-lib']);
    assert.deepEqual(ws.crateGraph(), { app: ['core_lib'], core_lib: ['util'], util: [] });
    assert.equal(ws.workspaceRoot, dir);
    assert.equal(ws.targetDir, path.join(dir, 'target'));
  });

  it('a single package works too', async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': 'fn main() {}\n' });
    dirs.push(dir);
    const load = await loadWorkspace(path.join(dir, 'Cargo.toml'));
    assert.ok(load.ok);
    assert.deepEqual(load.model.bins().map((b) => b.binName), ['demo']);
    assert.equal(load.model.packageForFile(path.join(dir, 'src', 'main.rs'))?.name, 'demo');
  });

  it('a broken manifest and a missing cargo become messages, not exceptions', async () => {
    const dir = tempProject({ 'Cargo.toml': '[package\n', 'src/main.rs': '' });
    dirs.push(dir);
    const broken = await loadWorkspace(path.join(dir, 'Cargo.toml'));
    assert.equal(broken.ok, false);
    assert.match(!broken.ok ? broken.message : '', /cargo metadata failed/);
    const missing = await loadWorkspace(path.join(dir, 'Cargo.toml'), '/nonexistent/cargo');
    assert.equal(missing.ok, false);
    assert.match(!missing.ok ? missing.message : '', /cargo was not found/);
    const absent = await loadWorkspace(path.join(dir, 'nope', 'Cargo.toml'));
    assert.equal(absent.ok, false);
  });
});
