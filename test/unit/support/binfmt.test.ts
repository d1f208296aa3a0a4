// The binfmt_misc decision on a fake /proc/sys/fs/binfmt_misc: which entry runs another
// architecture's app directly, and what the launch and the doctor say and do with it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { binfmtHandlerFor, binfmtLoaderProblem } from '../../../server/src/support/binfmt';
import { launchCommandFor } from '../../../server/src/session/launch-command';
import { runnerCheck } from '../../../server/src/doctor/target';
import { hostArch } from '../../../server/src/workspace/cargo-config';

// What qemu-user-static's Debian package registers (update-binfmts), as the kernel prints it.
const QEMU_AARCH64 = `enabled
interpreter /usr/bin/qemu-aarch64-static
flags: F
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`;
const QEMU_X86_64 = QEMU_AARCH64.replace(/qemu-aarch64/, 'qemu-x86_64').replace('0200b700', '02003e00');
const JAR = `enabled
interpreter /usr/bin/jexec
flags: 
extension .jar
`;

describe('binfmt_misc: another architecture run directly by the kernel', () => {
  let root: string;
  function binfmtDir(entries: Record<string, string>, status = 'enabled'): string {
    const d = fs.mkdtempSync(path.join(root, 'binfmt-'));
    fs.writeFileSync(path.join(d, 'status'), `${status}\n`);
    fs.writeFileSync(path.join(d, 'register'), '');
    for (const [name, text] of Object.entries(entries)) fs.writeFileSync(path.join(d, name), text);
    return d;
  }
  /** A QEMU_LD_PREFIX with (or without) the aarch64 loader in it. */
  function ldPrefix(withLoader: boolean): string {
    const d = fs.mkdtempSync(path.join(root, 'sysroot-'));
    if (withLoader) {
      fs.mkdirSync(path.join(d, 'lib'));
      fs.writeFileSync(path.join(d, 'lib', 'ld-linux-aarch64.so.1'), '');
    }
    return d;
  }
  const config = { target: 'aarch64-unknown-linux-gnu', undecidedCfgRunners: [], files: [], problems: [] };
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'binfmt-test-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the enabled entry whose magic/mask takes an aarch64 PIE executable, and only that one', () => {
    const d = binfmtDir({ jar: JAR, 'qemu-x86_64': QEMU_X86_64, 'qemu-aarch64': QEMU_AARCH64 });
    assert.deepEqual(binfmtHandlerFor('aarch64', d), { name: 'qemu-aarch64', interpreter: '/usr/bin/qemu-aarch64-static', flags: 'F' });
    assert.equal(binfmtHandlerFor('x86_64', d)?.name, 'qemu-x86_64');
    assert.equal(binfmtHandlerFor('riscv64', d), undefined);
  });

  it('none when the entry is disabled, binfmt_misc is off, or absent; none for a missing interpreter without F', () => {
    assert.equal(binfmtHandlerFor('aarch64', binfmtDir({ 'qemu-aarch64': QEMU_AARCH64.replace('enabled', 'disabled') })), undefined);
    assert.equal(binfmtHandlerFor('aarch64', binfmtDir({ 'qemu-aarch64': QEMU_AARCH64 }, 'disabled')), undefined);
    assert.equal(binfmtHandlerFor('aarch64', path.join(root, 'no-such-dir')), undefined);
    assert.equal(binfmtHandlerFor('aarch64', binfmtDir({ 'qemu-aarch64': QEMU_X86_64 })), undefined, 'an x86_64 magic does not take aarch64');
    const noF = QEMU_AARCH64.replace('flags: F', 'flags: ').replace('/usr/bin/qemu-aarch64-static', path.join(root, 'no-such-qemu'));
    assert.equal(binfmtHandlerFor('aarch64', binfmtDir({ 'qemu-aarch64': noF })), undefined);
  });

  it('qemu needs the app loader: found under QEMU_LD_PREFIX, a problem named when it is not there', () => {
    const h = binfmtHandlerFor('aarch64', binfmtDir({ 'qemu-aarch64': QEMU_AARCH64 }))!;
    assert.equal(binfmtLoaderProblem(h, 'aarch64', { QEMU_LD_PREFIX: ldPrefix(true) }), undefined);
    const empty = ldPrefix(false);
    assert.equal(binfmtLoaderProblem(h, 'aarch64', { QEMU_LD_PREFIX: empty }), `QEMU_LD_PREFIX=${empty} has no /lib/ld-linux-aarch64.so.1`);
  });

  describe('on an x86_64 host', function () {
    before(function () {
      if (hostArch() !== 'x86_64') this.skip();
    });
    it('launch: an aarch64 app without a runner runs directly through binfmt, and says so', () => {
      const d = binfmtDir({ 'qemu-aarch64': QEMU_AARCH64 });
      const l = launchCommandFor('app', 'aarch64', config, process.env.PATH, d, { QEMU_LD_PREFIX: ldPrefix(true) });
      assert.ok(l.ok);
      assert.deepEqual(l.runner, []);
      assert.equal(l.note, 'app (aarch64) runs directly: the kernel runs it through binfmt_misc (qemu-aarch64-static)');
    });
    it('launch: refused with the fix without an entry, or when qemu would not find the loader', () => {
      const none = launchCommandFor('app', 'aarch64', config, process.env.PATH, binfmtDir({ 'qemu-x86_64': QEMU_X86_64 }), {});
      assert.ok(!none.ok);
      assert.match(none.message, /this machine is x86_64: it needs a runner/);
      const noLoader = launchCommandFor('app', 'aarch64', config, process.env.PATH, binfmtDir({ 'qemu-aarch64': QEMU_AARCH64 }), { QEMU_LD_PREFIX: ldPrefix(false) });
      assert.ok(!noLoader.ok);
      assert.match(noLoader.message, /binfmt_misc would run it through \/usr\/bin\/qemu-aarch64-static, but QEMU_LD_PREFIX=.* has no \/lib\/ld-linux-aarch64\.so\.1: set QEMU_LD_PREFIX/);
    });
    it('doctor: the runner check is ok through binfmt and names it; fails without', () => {
      const ok = runnerCheck(config, config.target, 'aarch64', binfmtDir({ 'qemu-aarch64': QEMU_AARCH64 }), { QEMU_LD_PREFIX: ldPrefix(true) });
      assert.equal(ok.status, 'ok');
      assert.equal(ok.detail, 'the aarch64 app runs directly on this x86_64 machine: the kernel runs it through binfmt_misc (qemu-aarch64-static), entry qemu-aarch64');
      const fail = runnerCheck(config, config.target, 'aarch64', binfmtDir({}), {});
      assert.equal(fail.status, 'fail');
      assert.match(fail.detail, /cannot run directly on this x86_64 machine \(no binfmt_misc entry for aarch64\)/);
      assert.match(fail.fix ?? '', /runner = \["qemu-aarch64-static"/);
    });
  });
});
