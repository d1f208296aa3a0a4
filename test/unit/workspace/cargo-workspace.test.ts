// The workspace model from real `cargo metadata`: members, targets, file → crate, dependency order.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { loadWorkspace, packageSpecOf, WorkspaceModel } from '../../../server/src/workspace/cargo-workspace';
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
    assert.deepEqual(ws.bins(), [{ packageName: 'app', packageSpec: ws.package('app')!.spec, binName: 'app', crateName: 'app' }]);
    // cargo ≥ 1.77 prints package ids as `-p` specs naming the package's directory
    assert.match(ws.package('app')!.spec, new RegExp(`^path\\+file://${path.dirname(ws.package('app')!.manifestPath)}#(app@)?0\\.1\\.0$`));
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

  it('a lib + bins package: which targets a file belongs to, and what a file is to the build', async () => {
    const dir = tempProject({
      'Cargo.toml':
        '[workspace]\nmembers = [".", "macros"]\n[package]\nname = "my-app"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n' +
        '[dependencies]\nmacros = { path = "macros" }\n[[bin]]\nname = "my-app"\npath = "src/main.rs"\n[[bin]]\nname = "tool"\npath = "tools/tool.rs"\n',
      'build.rs': 'fn main() {}\n',
      'src/lib.rs': 'pub mod pricing;\n',
      'src/pricing.rs': '',
      'src/main.rs': 'mod view;\nfn main() {}\n',
      'src/view.rs': '',
      'src/stray.rs': '',
      'tools/tool.rs': 'fn main() {}\n',
      'tests/it.rs': '',
      'macros/Cargo.toml': '[package]\nname = "macros"\nversion = "0.1.0"\nedition = "2021"\n[lib]\nproc-macro = true\n',
      'macros/src/lib.rs': 'mod helper;\n',
      'macros/src/helper.rs': '',
      '.cargo/config.toml': '',
    });
    dirs.push(dir);
    const load = await loadWorkspace(path.join(dir, 'Cargo.toml'));
    assert.ok(load.ok, !load.ok ? load.message : '');
    const ws = load.model;
    const bin = ws.bins().find((b) => b.binName === 'my-app')!;
    const f = (rel: string) => path.join(dir, rel);
    // lib and bin share the crate name my_app: the name stands for the lib in the crate list
    assert.deepEqual(ws.libCratesForFile(f('src/lib.rs'), bin), ['my_app']);
    assert.deepEqual(ws.libCratesForFile(f('src/pricing.rs'), bin), ['my_app']);
    assert.deepEqual(ws.libCratesForFile(f('src/main.rs'), bin), [], 'the bin is always rebuilt');
    assert.deepEqual(ws.libCratesForFile(f('src/view.rs'), bin), [], 'a module of main.rs beside the lib belongs to the bin');
    assert.deepEqual(ws.ownersOfFile(f('src/view.rs')).targets.map((t) => t.name), ['my-app']);
    assert.deepEqual(ws.ownersOfFile(f('tools/tool.rs')).targets.map((t) => t.name), ['tool']);
    assert.deepEqual(ws.ownersOfFile(f('tests/it.rs')).targets.map((t) => t.kind[0]), ['test']);
    const stray = ws.ownersOfFile(f('src/stray.rs'));
    assert.equal(stray.guessed, true, 'no tree claims it: a guess');
    assert.deepEqual(stray.targets.map((t) => t.name).sort(), ['my-app', 'my_app', 'tool']);
    assert.deepEqual(ws.libCratesForFile(f('src/stray.rs'), bin), ['my_app'], 'unsure: the lib is rebuilt too');
    assert.equal(ws.kindOfFile(f('src/lib.rs')), 'source');
    assert.equal(ws.kindOfFile(f('build.rs')), 'build-script');
    assert.equal(ws.kindOfFile(f('macros/src/helper.rs')), 'proc-macro');
    assert.equal(ws.kindOfFile(f('Cargo.toml')), 'manifest');
    assert.equal(ws.kindOfFile(f('macros/Cargo.toml')), 'manifest');
    assert.equal(ws.kindOfFile(f('Cargo.lock')), 'lockfile');
    assert.equal(ws.kindOfFile(f('.cargo/config.toml')), 'cargo-config');
    assert.equal(ws.kindOfFile(f('rust-toolchain.toml')), 'toolchain');
    assert.equal(ws.kindOfFile(f('data/x.txt')), 'other');
    // the graph for one bin leaves the other bins out, and knows the lib is linked
    assert.deepEqual(ws.crateGraph(bin), { my_app: ['macros'], macros: [] });
    assert.deepEqual([...ws.libCratesOfApp(bin)].sort(), ['my_app']);
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

  it("a package's -p spec: cargo's id when it is a spec (cargo ≥ 1.77), else name@version", () => {
    assert.equal(packageSpecOf({ name: 'twin', id: 'path+file:///w/app#twin@0.1.0', version: '0.1.0' }), 'path+file:///w/app#twin@0.1.0');
    assert.equal(packageSpecOf({ name: 'my-app', id: 'path+file:///w/x#my-app@1.0.0' }), 'path+file:///w/x#my-app@1.0.0');
    assert.equal(packageSpecOf({ name: 'twin', id: 'twin 0.1.0 (path+file:///w/app)', version: '0.1.0' }), 'twin@0.1.0');
  });
});
