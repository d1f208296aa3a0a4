// A real editor as the client: headless Neovim with editors/neovim, against the built server.
// .ci/run installs a Neovim ≥ 0.10 and sets NVIM_BIN; without one this test is skipped (pending),
// never passed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/lsp-client';

describe('Neovim as the LSP client', function () {
  this.timeout(180_000);

  it('shows struct-layout-changed on save, the start lens and the restart quick fix', function () {
    const nvim = process.env.NVIM_BIN;
    if (!nvim) this.skip();
    const res = spawnSync('bash', [path.join(REPO_ROOT, 'editors', 'neovim', 'test', 'smoke.sh')], {
      env: { ...process.env, NVIM_BIN: nvim, SUBSECOND_SMOKE_REQUIRE: '1' },
      encoding: 'utf8',
      timeout: 170_000,
    });
    const output = `${res.stdout}\n${res.stderr}`;
    assert.equal(res.status, 0, output);
    assert.match(output, /diagnostic at \d+:\d+: field `extra: bool` added to `App`: requires restart/);
    assert.match(output, /code action: Restart app to apply/);
    assert.match(output, /smoke: passed/);
  });
});
