// Which profile a build uses and whether it keeps debug assertions (cargo's precedence rules).
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { debugAssertions, debugInfo, profileOf } from '../../../server/src/doctor/cargo-profile';
import { removeDir, tempProject } from '../../support/fixtures';

describe('doctor: cargo profiles', () => {
  it('reads the profile from cargo arguments', () => {
    assert.equal(profileOf([]), 'dev');
    assert.equal(profileOf(['--features', 'x', '--release']), 'release');
    assert.equal(profileOf(['--profile', 'fast']), 'fast');
    assert.equal(profileOf(['--profile=fast']), 'fast');
  });

  it('follows Cargo.toml, .cargo/config.toml, the environment and inherits', () => {
    const dir = tempProject({
      'Cargo.toml': '[package]\nname = "x"\n\n[profile.fast]\ninherits = "release"\n\n[profile.checked]\ninherits = "release"\ndebug-assertions = true # on purpose\n\n[profile.dev.package."*"]\ndebug-assertions = false\n',
    });
    try {
      const env = { CARGO_HOME: path.join(dir, 'no-cargo-home') };
      assert.deepEqual(debugAssertions('dev', dir, env), { value: true, source: "cargo's default for dev" });
      assert.equal(debugAssertions('test', dir, env).value, true);
      assert.equal(debugAssertions('release', dir, env).value, false);
      assert.equal(debugAssertions('fast', dir, env).value, false);
      assert.equal(debugAssertions('checked', dir, env).value, true);
      assert.equal(debugAssertions('nowhere', dir, env).value, false);
      assert.deepEqual(debugAssertions('dev', dir, { ...env, CARGO_PROFILE_DEV_DEBUG_ASSERTIONS: 'false' }), {
        value: false,
        source: '$CARGO_PROFILE_DEV_DEBUG_ASSERTIONS',
      });
      const withConfig = tempProject({ 'Cargo.toml': '[profile.dev]\ndebug-assertions = true\n', '.cargo/config.toml': '[profile.dev]\ndebug-assertions = false\n' });
      try {
        const s = debugAssertions('dev', withConfig, env);
        assert.equal(s.value, false, 'config files win over Cargo.toml');
        assert.match(s.source, /\.cargo\/config\.toml/);
      } finally {
        removeDir(withConfig);
      }
    } finally {
      removeDir(dir);
    }
  });

  it('tells whether the executable will describe types (the layout gate reads them)', () => {
    const dir = tempProject({
      'Cargo.toml':
        '[package]\nname = "x"\n\n[profile.fast]\ninherits = "release"\n\n[profile.lean]\ninherits = "dev"\ndebug = "limited"\n\n[profile.lines]\ninherits = "dev"\ndebug = "line-tables-only"\n\n[profile.split]\ninherits = "dev"\nsplit-debuginfo = "packed"\n',
    });
    try {
      const env = { CARGO_HOME: path.join(dir, 'no-cargo-home') };
      assert.equal(debugInfo('dev', dir, env).types, true);
      assert.equal(debugInfo('test', dir, env).types, true);
      assert.equal(debugInfo('release', dir, env).types, false);
      assert.equal(debugInfo('fast', dir, env).types, false);
      assert.deepEqual(debugInfo('lean', dir, env), { types: false, value: 'debug = limited', source: `[profile.lean] in ${path.join(dir, 'Cargo.toml')}` });
      assert.equal(debugInfo('lines', dir, env).types, false);
      assert.equal(debugInfo('split', dir, env).types, false);
      assert.match(debugInfo('split', dir, env).value, /split-debuginfo/);
      assert.equal(debugInfo('dev', dir, { ...env, CARGO_PROFILE_DEV_DEBUG: '1' }).types, false);
      assert.equal(debugInfo('release', dir, { ...env, CARGO_PROFILE_RELEASE_DEBUG: 'full' }).types, true);
    } finally {
      removeDir(dir);
    }
  });
});
