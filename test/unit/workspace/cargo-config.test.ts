// Reading cargo's config as cargo does: the target, its linker and its runner, from files up the
// directory tree, the environment and --config; and refusing what cannot be launched.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cargoConfigFiles, evalCfg, hostArch, readCargoTargetConfig, targetEnvName } from '../../../server/src/workspace/cargo-config';
import { launchCommandFor } from '../../../server/src/session/launch-command';

const T = 'aarch64-unknown-linux-gnu';
const AARCH64_CFG = ['unix', 'target_os="linux"', 'target_arch="aarch64"', 'target_env="gnu"'];

describe('cargo config: target, linker, runner', () => {
  let root: string;
  let app: string;
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ CARGO_HOME: path.join(root, 'cargo-home'), PATH: process.env.PATH, ...extra });
  const write = (dir: string, name: string, text: string) => {
    fs.mkdirSync(path.join(dir, '.cargo'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.cargo', name), text);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cargo-config-'));
    app = path.join(root, 'ws', 'app');
    fs.mkdirSync(app, { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads --target and the triple table of the nearest file; a relative runner is relative to the dir holding .cargo', () => {
    write(app, 'config.toml', `[target.${T}]\nlinker = "aarch64-linux-gnu-gcc"\nrunner = ["./tools/qemu", "-L", "/usr/aarch64-linux-gnu"]\n`);
    write(path.join(root, 'ws'), 'config.toml', `[target.${T}]\nlinker = "far-gcc"\nrunner = "far-runner"\n`);
    const c = readCargoTargetConfig({ cwd: app, cargoArgs: ['--target', T], env: env() });
    assert.equal(c.target, T);
    assert.equal(c.targetFrom, 'cargoArgs --target');
    assert.deepEqual(c.linker?.command, ['aarch64-linux-gnu-gcc']);
    assert.deepEqual(c.runner?.command, [path.join(app, 'tools', 'qemu'), '-L', '/usr/aarch64-linux-gnu']);
    assert.equal(c.runner?.from, path.join(app, '.cargo', 'config.toml'));
    assert.deepEqual(c.problems, []);
  });

  it('takes build.target from an outer file and the host runner without a target; a string runner is split on spaces', () => {
    write(path.join(root, 'ws'), 'config.toml', `[build]\ntarget = "${T}"\n[target.${T}]\nrunner = "qemu-aarch64 -L /usr/aarch64-linux-gnu"\n[target.x86_64-unknown-linux-gnu]\nrunner = "valgrind"\n`);
    const c = readCargoTargetConfig({ cwd: app, env: env(), hostTriple: 'x86_64-unknown-linux-gnu' });
    assert.equal(c.target, T);
    assert.match(c.targetFrom!, /build\.target in .*ws\/\.cargo\/config\.toml/);
    assert.deepEqual(c.runner?.command, ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']);
    const host = readCargoTargetConfig({ cwd: app, cargoArgs: ['--target', 'x86_64-unknown-linux-gnu'], env: env(), hostTriple: 'x86_64-unknown-linux-gnu' });
    assert.deepEqual(host.runner?.command, ['valgrind'], 'the host target has a runner too');
  });

  it('the environment beats files, --config beats the environment, CARGO_BUILD_TARGET beats build.target', () => {
    write(app, 'config.toml', `[build]\ntarget = "x86_64-unknown-linux-gnu"\n[target.${T}]\nrunner = "file-runner"\nlinker = "file-gcc"\n`);
    const e = env({ CARGO_BUILD_TARGET: T, [targetEnvName(T, 'RUNNER')]: 'env-runner --flag', [targetEnvName(T, 'LINKER')]: 'env-gcc' });
    assert.equal(targetEnvName(T, 'RUNNER'), 'CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER');
    const c = readCargoTargetConfig({ cwd: app, env: e });
    assert.equal(c.target, T);
    assert.equal(c.targetFrom, 'CARGO_BUILD_TARGET');
    assert.deepEqual(c.runner?.command, ['env-runner', '--flag']);
    assert.deepEqual(c.linker?.command, ['env-gcc']);
    const cli = readCargoTargetConfig({ cwd: app, env: e, cargoArgs: ['--config', `target.${T}.runner = ["cli-runner"]`] });
    assert.deepEqual(cli.runner?.command, ['cli-runner']);
    assert.equal(cli.runner?.from, `--config target.${T}.runner = ["cli-runner"]`);
  });

  it('prefers `.cargo/config` over `config.toml` in one directory, and reads CARGO_HOME last', () => {
    write(app, 'config', `[target.${T}]\nrunner = "plain"\n`);
    write(app, 'config.toml', `[target.${T}]\nrunner = "toml"\n`);
    fs.mkdirSync(path.join(root, 'cargo-home'), { recursive: true });
    fs.writeFileSync(path.join(root, 'cargo-home', 'config.toml'), `[target.${T}]\nlinker = "home-gcc"\n`);
    const files = cargoConfigFiles(app, env());
    assert.deepEqual(files, [path.join(app, '.cargo', 'config'), path.join(root, 'cargo-home', 'config.toml')]);
    const c = readCargoTargetConfig({ cwd: app, cargoArgs: [`--target=${T}`], env: env() });
    assert.deepEqual(c.runner?.command, ['plain']);
    assert.deepEqual(c.linker?.command, ['home-gcc']);
  });

  it("decides target.'cfg(…)' runners with the target's cfg list, and says when it could not", () => {
    write(app, 'config.toml', `[target.'cfg(all(target_arch = "aarch64", target_os = "linux"))']\nrunner = "qemu-cfg"\n[target.'cfg(windows)']\nrunner = "wine"\n`);
    const undecided = readCargoTargetConfig({ cwd: app, cargoArgs: ['--target', T], env: env() });
    assert.equal(undecided.runner, undefined);
    assert.equal(undecided.undecidedCfgRunners.length, 2);
    const c = readCargoTargetConfig({ cwd: app, cargoArgs: ['--target', T], env: env(), targetCfg: AARCH64_CFG });
    assert.deepEqual(c.runner?.command, ['qemu-cfg']);
    assert.match(c.runner!.from, /^target\.'cfg\(all/);
    assert.equal(evalCfg('not(any(windows, target_arch = "x86_64"))', AARCH64_CFG), true);
    assert.equal(evalCfg('target_arch = "x86_64"', AARCH64_CFG), false);
    assert.throws(() => evalCfg('all(unix', AARCH64_CFG), /malformed/);
  });

  it('bad TOML, several targets and target specs are problems, not exceptions', () => {
    write(app, 'config.toml', `[target.${T}\nrunner = `);
    const c = readCargoTargetConfig({ cwd: app, cargoArgs: ['--target', T, '--target', 'x86_64-unknown-linux-gnu'], env: env() });
    assert.equal(c.target, undefined);
    assert.ok(c.problems.some((p) => /not valid TOML/.test(p)), c.problems.join('\n'));
    assert.ok(c.problems.some((p) => /several targets/.test(p)), c.problems.join('\n'));
    const spec = readCargoTargetConfig({ cwd: app, cargoArgs: ['--target', 'my-board.json'], env: env() });
    assert.ok(spec.problems.some((p) => /custom target spec/.test(p)));
  });

  describe('launching the way cargo run does', () => {
    const other = hostArch() === 'x86_64' ? 'aarch64' : 'x86_64';
    it('runs through the runner when one is configured and found', () => {
      const l = launchCommandFor('app', other, { target: T, runner: { command: ['sh', '-c'], from: 'f' }, undecidedCfgRunners: [], files: [], problems: [] });
      assert.ok(l.ok);
      assert.deepEqual(l.runner, ['sh', '-c']);
    });
    it('refuses a runner that is not installed, and a foreign binary without a runner, with the fix', () => {
      const missing = launchCommandFor('app', other, { target: T, runner: { command: ['no-such-qemu-xyz'], from: 'cfg' }, undecidedCfgRunners: [], files: [], problems: [] });
      assert.ok(!missing.ok);
      assert.match(missing.message, /`no-such-qemu-xyz` \(cfg\) was not found on PATH/);
      // no binfmt_misc entry (a directory that does not exist): the kernel would refuse it
      const none = launchCommandFor('app', other, { target: T, undecidedCfgRunners: [], files: [], problems: [] }, process.env.PATH, '/nonexistent-binfmt_misc');
      assert.ok(!none.ok);
      assert.match(none.message, new RegExp(`built for ${other} .* needs a runner.*runner = \\["qemu-${other}-static"`));
    });
    it('runs a host binary directly without a runner', () => {
      const l = launchCommandFor('app', hostArch(), { undecidedCfgRunners: [], files: [], problems: [] });
      assert.ok(l.ok);
      assert.deepEqual(l.runner, []);
    });
  });
});
