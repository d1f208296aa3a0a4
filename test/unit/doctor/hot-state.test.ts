// The doctor's HotState check: silent without HotState; with it, which symbol names the build
// uses (v0 found in .cargo/config.toml or RUSTFLAGS, else legacy, whose renamed functions are
// matched through the debug info) and what that means for migration.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hotStateCheck } from '../../../server/src/doctor/hot-state';

describe('doctor: HotState migration check', () => {
  let root = '';
  let main = '';
  let cargoHome = '';
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-hot-state-'));
    cargoHome = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-cargo-home-'));
    main = path.join(root, 'src', 'main.rs');
    fs.mkdirSync(path.dirname(main), { recursive: true });
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(cargoHome, { recursive: true, force: true });
  });
  const env = (extra: Record<string, string> = {}) => ({ CARGO_HOME: cargoHome, ...extra });

  it('says nothing when no source uses HotState (a comment does not count)', () => {
    fs.writeFileSync(main, 'fn main() { /* */ } // HotState::new(x)\n');
    assert.equal(hotStateCheck(root, [main], env()), undefined);
  });

  it('with legacy symbol names, says that renamed functions are matched through the debug info', () => {
    fs.writeFileSync(main, 'fn main() { let s = subsecond_agent::HotState::new(State::default()); }\n');
    const c = hotStateCheck(root, [main], env())!;
    assert.equal(c.status, 'ok');
    assert.match(c.detail, /legacy symbol names: a layout change renames the functions that mention the type, and each is matched .* debug info/);
    assert.match(c.detail, /symbol-mangling-version=v0/);
  });

  it('finds v0 in the workspace .cargo/config.toml, or in RUSTFLAGS, which replaces the config', () => {
    fs.writeFileSync(main, 'use subsecond_agent::HotState;\nstatic X: Option<HotState<u8>> = None;\n');
    fs.mkdirSync(path.join(root, '.cargo'));
    fs.writeFileSync(path.join(root, '.cargo', 'config.toml'), '[build]\nrustflags = ["-C", "symbol-mangling-version=v0"]\n');
    const v0 = /; v0 symbol names/;
    assert.match(hotStateCheck(root, [main], env())!.detail, v0);
    assert.doesNotMatch(hotStateCheck(root, [main], env({ RUSTFLAGS: '-C debuginfo=2' }))!.detail, v0);
    assert.match(hotStateCheck(root, [main], env({ RUSTFLAGS: '-C symbol-mangling-version=v0' }))!.detail, v0);
    fs.writeFileSync(path.join(root, '.cargo', 'config.toml'), '# rustflags = ["-C", "symbol-mangling-version=v0"]\n');
    assert.doesNotMatch(hotStateCheck(root, [main], env())!.detail, v0);
  });
});
