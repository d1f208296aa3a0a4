// A real Helix as the client: hx in a tmux pane, driven by editors/helix/test/tmux.sh. Opt-in:
// Helix takes about 18 minutes to build here, so this runs only when HX_BIN names one; without it
// the test is skipped (pending), never passed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/lsp-client';

describe('Helix as the LSP client', function () {
  this.timeout(300_000);

  it('start from :lsp-workspace-command, the warning at the end of the line, space a restarts the app, quitting stops it', function () {
    const hx = process.env.HX_BIN;
    if (!hx) this.skip();
    const res = spawnSync('bash', [path.join(REPO_ROOT, 'editors', 'helix', 'test', 'tmux.sh')], {
      env: { ...process.env, HX_BIN: hx },
      encoding: 'utf8',
      timeout: 290_000,
    });
    const output = `${res.stdout}\n${res.stderr}`;
    assert.equal(res.status, 0, output);
    assert.match(output, /started from :lsp-workspace-command: pid \d+/);
    assert.match(output, /end-of-line diagnostic: .*requires restart/);
    assert.match(output, /space a on line 7 offers: Restart app to apply/);
    assert.match(output, /the quick fix restarted the app: pid \d+/);
    // the outcome of a save's patch is on screen without a command (window/showMessage)
    assert.match(output, /after a pause in typing, :w alone shows: ⚡ patched main\.rs in \d+ ms \(prepared before the save/);
    assert.match(output, /quitting Helix stopped the app/);
  });
});
