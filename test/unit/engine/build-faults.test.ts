// What a failed patch build says when the cause is outside the user's code: a full disk, or the
// fat build's files deleted. Real statfs/existence checks; free space is injected where the test
// cannot fill a disk (the real full-disk case runs end to end in test/e2e/faults.test.ts).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { artifactsGoneMessage, diskFullMessage, freeBytes } from '../../../server/src/engine/build-faults';
import { shownPath } from '../../../server/src/terminal/run';

describe('build faults', () => {
  const LLD_SIGBUS = 'collect2: fatal error: ld terminated with signal 7 [Bus error]\ncompilation terminated.';

  it('a linker killed by SIGBUS on a nearly full disk is "no space left on …"', () => {
    const msg = diskFullMessage(LLD_SIGBUS, ['/t/patches', '/t/work'], (d) => (d === '/t/patches' ? 4096 : 10 * 2 ** 30));
    assert.match(msg ?? '', /^no space left on the disk holding \/t\/patches \(0\.0 MB free\): free some space/);
  });

  it('ENOSPC from any tool is "no space left", whatever the free space now', () => {
    assert.match(diskFullMessage('error: failed to write foo.o: No space left on device (os error 28)', ['/x'], () => 1e12) ?? '', /^no space left on/);
  });

  it('a crash with plenty of space is not blamed on the disk', () => {
    assert.equal(diskFullMessage(LLD_SIGBUS, [os.tmpdir()], () => 1e12), undefined);
    assert.equal(diskFullMessage('error[E0308]: mismatched types', [os.tmpdir()]), undefined);
    assert.ok((freeBytes(path.join(os.tmpdir(), 'does', 'not', 'exist')) ?? 0) > 0, 'measured on the nearest existing parent');
  });

  it('a deleted deps dir or rustc’s "extern location … does not exist" is "artifacts are gone: restart"', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-'));
    try {
      assert.equal(artifactsGoneMessage('', [dir]), undefined);
      const gone = path.join(dir, 'deps');
      assert.match(artifactsGoneMessage('', [gone]) ?? '', new RegExp(`^the fat build's artifacts are gone \\(${gone} no longer exists.*restart the app`));
      const rustc = 'error: extern location for subsecond does not exist: /w/target/debug/deps/libsubsecond-1234.rlib';
      assert.match(artifactsGoneMessage(rustc, [dir]) ?? '', /artifacts are gone \(\/w\/target\/debug\/deps\/libsubsecond-1234\.rlib no longer exists/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('terminal paths are relative to the workspace, or absolute outside it (never ../../..)', () => {
    assert.equal(shownPath('/w/app', '/w/app/src/main.rs'), 'src/main.rs');
    assert.equal(shownPath('/w/app', '/tmp/other/x.rs'), '/tmp/other/x.rs');
    assert.equal(shownPath('/w/app', '/w/app-2/x.rs'), '/w/app-2/x.rs');
  });
});
