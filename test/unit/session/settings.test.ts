// The appTerminal setting: what an editor may ask for, and what it may not.
import { strict as assert } from 'node:assert';
import { defaultSettings, mergeSettings } from '../../../server/src/session/settings';

describe('settings: appTerminal', () => {
  const merge = (appTerminal: unknown) => {
    const problems: string[] = [];
    return { settings: mergeSettings(defaultSettings, { subsecond: { appTerminal } }, problems), problems };
  };

  it('defaults to "none" (piped output)', () => {
    assert.equal(defaultSettings.appTerminal, 'none');
  });

  it('accepts "none", "editor" and a command prefix', () => {
    assert.equal(merge('editor').settings.appTerminal, 'editor');
    assert.equal(merge('none').settings.appTerminal, 'none');
    assert.deepEqual(merge(['tmux', 'new-window']).settings.appTerminal, ['tmux', 'new-window']);
    assert.deepEqual(merge('editor').problems, []);
  });

  it('refuses "inherit" (the server\'s stdout is the protocol) and malformed values, keeping the default', () => {
    for (const bad of ['inherit', 'kitty', [], ['tmux', 3], ['']]) {
      const { settings, problems } = merge(bad);
      assert.equal(settings.appTerminal, 'none', JSON.stringify(bad));
      assert.match(problems.join('\n'), /"appTerminal" must be "none", "editor" or a command prefix/, JSON.stringify(bad));
    }
  });
});

describe('settings: unsaved text (patchOn, speculate, pauseMs)', () => {
  it('defaults: patch on save, build ahead while typing pauses for 300 ms', () => {
    assert.equal(defaultSettings.patchOn, 'save');
    assert.equal(defaultSettings.speculate, true);
    assert.equal(defaultSettings.pauseMs, 300);
  });

  it('accepts "pause", false and a positive delay; refuses anything else and keeps the default', () => {
    const problems: string[] = [];
    const ok = mergeSettings(defaultSettings, { patchOn: 'pause', speculate: false, pauseMs: 120 }, problems);
    assert.deepEqual([ok.patchOn, ok.speculate, ok.pauseMs, problems], ['pause', false, 120, []]);
    const bad = mergeSettings(defaultSettings, { patchOn: 'keystroke', speculate: 'yes', pauseMs: -1 }, problems);
    assert.deepEqual([bad.patchOn, bad.speculate, bad.pauseMs], ['save', true, 300]);
    assert.deepEqual(problems, [
      'setting "speculate" must be true or false',
      'setting "patchOn" must be "save" or "pause"',
      'setting "pauseMs" must be a positive number',
    ]);
  });
});

describe('settings: devserverAddress, devserverPort', () => {
  it('defaults to loopback on any free port; accepts IP addresses and ports; refuses anything else', () => {
    assert.equal(defaultSettings.devserverAddress, '127.0.0.1');
    assert.equal(defaultSettings.devserverPort, 0);
    const problems: string[] = [];
    const ok = mergeSettings(defaultSettings, { devserverAddress: '0.0.0.0', devserverPort: 9955 }, problems);
    assert.deepEqual([ok.devserverAddress, ok.devserverPort, problems], ['0.0.0.0', 9955, []]);
    assert.equal(mergeSettings(defaultSettings, { devserverAddress: '::1' }).devserverAddress, '::1');
    const bad = mergeSettings(defaultSettings, { devserverAddress: 'my laptop', devserverPort: 70000 }, problems);
    assert.deepEqual([bad.devserverAddress, bad.devserverPort], ['127.0.0.1', 0]);
    assert.match(problems.join('\n'), /"devserverAddress" must be an IP address/);
    assert.match(problems.join('\n'), /"devserverPort" must be a port number from 0/);
  });
});
