// Which profile a build uses and whether it keeps debug assertions (cargo's precedence rules).
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { debugAssertions, profileOf } from '../../../server/src/doctor/cargo-profile';
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
});
