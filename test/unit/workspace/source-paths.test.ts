// One rule decides which files are workspace sources, for the indexer, saves and the watcher.
import { strict as assert } from 'node:assert';
import { isSourcePathUnder, isIgnoredDirName } from '../../../server/src/workspace/source-paths';

describe('source paths', () => {
  it('accepts files below the root outside build output and hidden directories', () => {
    assert.equal(isSourcePathUnder('/w', '/w/src/main.rs'), true);
    assert.equal(isSourcePathUnder('/w', '/w/crates/a/src/lib.rs'), true);
    assert.equal(isSourcePathUnder('/w', '/w/target/debug/build/x/out/gen.rs'), false);
    assert.equal(isSourcePathUnder('/w', '/w/.git/hooks/x.rs'), false);
    assert.equal(isSourcePathUnder('/w', '/w/node_modules/p/x.rs'), false);
    assert.equal(isSourcePathUnder('/w', '/elsewhere/x.rs'), false);
    assert.equal(isSourcePathUnder('/w', '/w'), false);
  });

  it('judges relative to the root: a workspace inside target/ or a hidden directory still works', () => {
    assert.equal(isSourcePathUnder('/home/u/.local/target/ws', '/home/u/.local/target/ws/src/main.rs'), true);
    assert.equal(isSourcePathUnder('/home/u/.local/target/ws', '/home/u/.local/target/ws/target/x.rs'), false);
  });

  it('names of ignored directories', () => {
    for (const d of ['target', 'node_modules', '.git', '.cargo']) assert.equal(isIgnoredDirName(d), true, d);
    for (const d of ['src', 'targets', 'my-target']) assert.equal(isIgnoredDirName(d), false, d);
  });
});
