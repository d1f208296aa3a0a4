// `subsecond-lsp run` arguments: where the app's terminal is.
import { strict as assert } from 'node:assert';
import { parseRunArgs } from '../../../server/src/terminal/run';

describe('subsecond-lsp run: --app-terminal', () => {
  it('is left to the terminal check by default', () => {
    const a = parseRunArgs([]);
    assert.ok(typeof a !== 'string');
    assert.equal(a.appTerminal, undefined);
  });

  it('takes inherit or piped, in both spellings', () => {
    for (const [argv, want] of [
      [['--app-terminal', 'piped'], 'piped'],
      [['--app-terminal=inherit'], 'inherit'],
    ] as const) {
      const a = parseRunArgs([...argv]);
      assert.ok(typeof a !== 'string', String(a));
      assert.equal(a.appTerminal, want);
    }
  });

  it('says what is wrong with anything else', () => {
    assert.equal(parseRunArgs(['--app-terminal', 'tmux']), '--app-terminal must be "inherit" or "piped", not "tmux"');
    assert.equal(parseRunArgs(['--app-terminal']), '--app-terminal needs a value');
  });
});
