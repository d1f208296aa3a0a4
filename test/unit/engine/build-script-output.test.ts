// The files build scripts say they read: cargo's package ids (both formats) and the
// rerun-if-changed lines of a build script's `output` file.
import { strict as assert } from 'node:assert';
import { packageRootOf, rerunIfChangedPaths } from '../../../server/src/engine/build-script-output';

describe('engine/build-script-output', () => {
  it('finds the package root in both package id formats, and none for registry packages', () => {
    assert.equal(packageRootOf('path+file:///w/my%20app/info#station-info@0.1.0'), '/w/my app/info');
    assert.equal(packageRootOf('path+file:///w/info#0.1.0'), '/w/info');
    assert.equal(packageRootOf('station-info 0.1.0 (path+file:///w/info)'), '/w/info');
    assert.equal(packageRootOf('registry+https://github.com/rust-lang/crates.io-index#libc@0.2.150'), undefined);
  });

  it('reads cargo: and cargo:: rerun-if-changed lines only', () => {
    const text = 'cargo:rustc-env=X=1\r\ncargo:rerun-if-changed=build.rs\ncargo::rerun-if-changed=data/a b.txt\ncargo:rerun-if-env-changed=Y\ncargo:rerun-if-changed=\nnoise\n';
    assert.deepEqual(rerunIfChangedPaths(text), ['build.rs', 'data/a b.txt']);
  });
});
