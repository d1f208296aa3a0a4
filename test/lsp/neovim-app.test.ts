// Neovim's side of where the app lives (editors/neovim/lua/subsecond/app.lua), in a real headless
// Neovim: it answers subsecond/runInTerminal with a terminal running the command, and
// :SubsecondLog follows subsecond/appOutput. Skipped (pending) without NVIM_BIN, like neovim.test.ts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/lsp-client';

describe('Neovim: runInTerminal and :SubsecondLog', function () {
  this.timeout(60_000);

  it('opens the app in a terminal with its cwd and env, answers its pid, and the log buffer follows the output', function () {
    const nvim = process.env.NVIM_BIN;
    if (!nvim) this.skip();
    const res = spawnSync(nvim, ['--headless', '-l', path.join(REPO_ROOT, 'editors', 'neovim', 'test', 'app.lua')], { encoding: 'utf8', timeout: 50_000 });
    const output = `${res.stdout}\n${res.stderr}`;
    assert.equal(res.status, 0, output);
    assert.match(output, /runInTerminal ran the command in a terminal \(pid \d+\)/);
    assert.match(output, /:SubsecondLog follows subsecond\/appOutput/);
    assert.match(output, /app-smoke: passed/);
  });
});
