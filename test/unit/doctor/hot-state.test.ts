// The doctor's HotState check: silent without HotState; with it, v0 symbol names (which state
// migration needs) found in .cargo/config.toml or RUSTFLAGS, else a warning with the fix.
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

  it('warns without v0 symbol names, with the fix', () => {
    fs.writeFileSync(main, 'fn main() { let s = subsecond_agent::HotState::new(State::default()); }\n');
    const c = hotStateCheck(root, [main], env())!;
    assert.equal(c.status, 'warn');
    assert.match(c.detail, /legacy symbol names/);
    assert.match(c.fix!, /symbol-mangling-version=v0/);
  });

  it('is ok with v0 in the workspace .cargo/config.toml, or in RUSTFLAGS, which replaces the config', () => {
    fs.writeFileSync(main, 'use subsecond_agent::HotState;\nstatic X: Option<HotState<u8>> = None;\n');
    fs.mkdirSync(path.join(root, '.cargo'));
    fs.writeFileSync(path.join(root, '.cargo', 'config.toml'), '[build]\nrustflags = ["-C", "symbol-mangling-version=v0"]\n');
    assert.equal(hotStateCheck(root, [main], env())!.status, 'ok');
    assert.equal(hotStateCheck(root, [main], env({ RUSTFLAGS: '-C debuginfo=2' }))!.status, 'warn');
    assert.equal(hotStateCheck(root, [main], env({ RUSTFLAGS: '-C symbol-mangling-version=v0' }))!.status, 'ok');
    fs.writeFileSync(path.join(root, '.cargo', 'config.toml'), '# rustflags = ["-C", "symbol-mangling-version=v0"]\n');
    assert.equal(hotStateCheck(root, [main], env())!.status, 'warn');
  });
});
