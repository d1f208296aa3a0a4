// A cross-target session, as a user sets one up: the counter app built for
// aarch64-unknown-linux-gnu with cargo's own cross set-up in its `.cargo/config.toml` (the linker
// and a qemu-user runner), started with `cargoArgs: ["--target", …]`. The app must run through the
// runner (as `cargo run` starts it), connect from inside qemu, and take patches of the tip crate
// and of a workspace crate in the same process; a layout change stays blocked with the app alive.
// The copy's tip_message and counter_core::core_message count their calls in a crate-local
// static and a `thread_local!` each, which patched code must keep counting
// (engine/fixups-aarch64.ts rebinds them to the app's: local-exec TLS in the tip, TLS descriptors
// in the workspace crate).
// The config is written into the temp copy only, never into clients/.
// Skips (saying why) only when the cross tools are not installed; .ci/run installs them.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERVER_BIN, TestLspClient } from '../support/lsp-client';
import { prepareClientFixture, prepareCounterFixture, ticksIn, Tick } from '../support/counter-fixture';
import { binfmtHandlerFor, binfmtLoaderProblem } from '../../server/src/support/binfmt';
import { CROSS_CONFIG, CROSS_RUNNER, crossToolsMissing, elfMachine, TRIPLE } from '../support/cross-target';
import { isAlive } from '../support/processes';

const QEMU = CROSS_RUNNER;

const TIP_V1 = `#[inline(never)]
fn tip_message() -> &'static str {
    "tip-v1"
}`;
/** tip_message with state of its own: `tip=<message>/s<static count>/t<thread-local count>`. */
const TIP_WITH_STATE = `/// Counted by every call of tip_message: patched code must go on counting the app's values.
static TIP_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
thread_local! {
    static TIP_TLS_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline(never)]
fn tip_message() -> &'static str {
    let calls = TIP_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let tls = TIP_TLS_CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    Box::leak(format!("{}/s{}/t{}", "tip-v1", calls, tls).into_boxed_str())
}`;

const CORE_V1 = `#[inline(never)]
pub fn core_message() -> &'static str {
    "core-v1"
}`;
/** core_message with state of its own (a private static and a thread-local of a library crate). */
const CORE_WITH_STATE = `static CORE_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
thread_local! {
    static CORE_TLS_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline(never)]
pub fn core_message() -> &'static str {
    let calls = CORE_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let tls = CORE_TLS_CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    Box::leak(format!("{}/s{}/t{}", "core-v1", calls, tls).into_boxed_str())
}`;

/** A `tip=` or `core=` field's parts: the message, the static's and the thread-local's counts. */
function counted(field: string, line: string): { name: string; s: number; t: number } {
  const m = /^(.*)\/s(\d+)\/t(\d+)$/.exec(field);
  assert.ok(m, `a field with counters: ${line}`);
  return { name: m[1], s: +m[2], t: +m[3] };
}
const tipOf = (t: Tick) => counted(t.tip, t.line);
const coreOf = (t: Tick) => counted(t.core, t.line);
const tipName = (t: Tick) => /^(.*)\/s\d+\/t\d+$/.exec(t.tip)?.[1];
const coreName = (t: Tick) => /^(.*)\/s\d+\/t\d+$/.exec(t.core)?.[1];

describe(`end to end: a cross-target session (${TRIPLE} under qemu-user)`, function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  let mainRs = '';
  let coreRs = '';
  let mainV1 = '';
  let coreV1 = '';
  let logCursor = 0;
  let pid = 0;

  const ticksSinceMark = (): Tick[] => ticksIn(client.logs.slice(logCursor));
  const markLogs = () => (logCursor = client.logs.length);
  const waitForTick = (what: string, pred: (t: Tick) => boolean, timeoutMs = 180_000) => client.waitFor(what, () => ticksSinceMark().find(pred), timeoutMs);
  const latestTick = (): Tick | undefined => ticksIn(client.logs).pop();
  const save = async (file: string, text: string) => {
    fs.writeFileSync(file, text);
    await client.changeAndSave(file, text);
  };

  before(async function () {
    const missing = crossToolsMissing();
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
    this.timeout(40 * 60_000);
    const fixture = prepareCounterFixture('subsecond-lsp-e2e-cross-aarch64');
    fs.mkdirSync(path.join(fixture.counterDir, '.cargo'), { recursive: true });
    fs.writeFileSync(path.join(fixture.counterDir, '.cargo', 'config.toml'), CROSS_CONFIG);
    mainRs = fixture.mainRs;
    coreRs = fixture.coreRs;
    const original = fs.readFileSync(mainRs, 'utf8');
    assert.ok(original.includes(TIP_V1), 'the counter still has its tip_message');
    mainV1 = original.replace(TIP_V1, TIP_WITH_STATE);
    fs.writeFileSync(mainRs, mainV1);
    const core = fs.readFileSync(coreRs, 'utf8');
    assert.ok(core.includes(CORE_V1), 'counter-core still has its core_message');
    coreV1 = core.replace(CORE_V1, CORE_WITH_STATE);
    fs.writeFileSync(coreRs, coreV1);
    client = new TestLspClient({ rootDir: fixture.counterDir, initializationOptions: { cargoArgs: ['--target', TRIPLE] } });
    await client.initialize();
    await client.open(mainRs, mainV1);
    await client.open(coreRs, coreV1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    const first = await client.waitFor('the app to tick under qemu', () => latestTick(), 180_000);
    pid = first.pid;
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('builds an aarch64 app and runs it through the configured runner, connected to the devserver', async () => {
    const exe = client.logs.map((l) => /fat build of counter took \d+ ms → (\S+)/.exec(l)?.[1]).find(Boolean);
    assert.ok(exe, client.logs.slice(-30).join('\n'));
    assert.equal(elfMachine(exe), 'aarch64', `${exe} is an aarch64 executable`);
    assert.match(exe, new RegExp(`${TRIPLE}|subsecond-lsp`));
    // The process the ticks come from is qemu running the app: its pid is the one we launched.
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline[0].endsWith(QEMU) || cmdline.some((a) => a.endsWith(QEMU)), `pid ${pid} runs under qemu: ${cmdline.join(' ')}`);
    assert.ok(cmdline.includes(exe), `pid ${pid} runs ${exe}: ${cmdline.join(' ')}`);
    assert.ok(client.logs.some((l) => /runs through `qemu-aarch64-static -L \/usr\/aarch64-linux-gnu`/.test(l)), 'the runner is named in the log');
    const status = await client.executeCommand<{ app: string; message: string }>('subsecond.status');
    assert.equal(status.app, 'running');
    assert.match(status.message, /connected through subsecond-agent/);
  });

  it('a tip-crate edit goes live in the same process under qemu; its static and thread-local keep counting', async () => {
    const before = latestTick()!;
    const was = tipOf(before);
    assert.equal(was.name, 'tip-v1');
    markLogs();
    await save(mainRs, mainV1.replace('"tip-v1"', '"tip-v2"'));
    const after = await waitForTick('tip=tip-v2', (t) => tipName(t) === 'tip-v2');
    assert.equal(after.pid, pid, 'the same process was patched');
    assert.ok(after.count > before.count, `state kept: ${before.count} → ${after.count}`);
    // Patched tip_message counts on from the app's static and thread-local: fresh copies in the
    // patch would restart at 1 (and a tip thread_local! the engine cannot bind does not link).
    const now = tipOf(after);
    assert.ok(now.s > was.s, `the tip's static keeps its value: ${before.tip} → ${after.tip}`);
    assert.ok(now.t > was.t, `the tip's thread-local keeps its value: ${before.tip} → ${after.tip}`);
    const applied = await client.waitFor('the applied status', () => client.statuses.find((s) => s.patch === 'applied' && s.patchesApplied >= 1));
    // Entry detours work inside qemu too: the agent stopped the app's threads (not the emulator's).
    assert.match(applied.message, /\d+ changed functions? detoured/, applied.message);
    assert.doesNotMatch(applied.message, /detours failed/);
    // Nothing is said to start fresh: neither by the engine nor by the analysis.
    assert.ok(!client.logs.some((l) => /starts fresh|cannot be bound|does not rebind/.test(l)), client.logs.filter((l) => /fresh|bound|rebind/.test(l)).join('\n'));
    const warned = client.publishedDiagnostics.flatMap((p) => p.diagnostics).filter((d) => d.code === 'thread-local-reset');
    assert.deepEqual(warned.map((d) => d.message), [], 'no thread-local-reset warning: the thread-local is kept');
  });

  it('a workspace-crate edit goes live in the same process', async () => {
    markLogs();
    await save(coreRs, coreV1.replace('"core-v1"', '"core-v2"'));
    const last = ticksIn(client.logs.slice(0, logCursor)).pop()!;
    const before = tipOf(last);
    const coreBefore = coreOf(last);
    const t = await waitForTick('core=core-v2', (x) => coreName(x) === 'core-v2');
    assert.equal(t.pid, pid);
    const now = tipOf(t);
    assert.equal(now.name, 'tip-v2', 'the tip patch was carried into the workspace patch');
    // The second patch carries tip_message again: still the app's static and thread-local.
    assert.ok(now.s > before.s && now.t > before.t, `kept across patches: s${before.s}/t${before.t} → ${t.tip}`);
    // The workspace crate's private static and its thread-local (reached through a TLS
    // descriptor, which the engine relaxes to the app's block) keep counting too.
    const core = coreOf(t);
    assert.ok(core.s > coreBefore.s, `the workspace crate's static keeps its value: ${last.core} → ${t.core}`);
    assert.ok(core.t > coreBefore.t, `the workspace crate's thread-local keeps its value: ${last.core} → ${t.core}`);
    assert.ok(!client.logs.some((l) => /starts fresh|cannot be bound/.test(l)), client.logs.filter((l) => /fresh|bound/.test(l)).join('\n'));
  });

  it('a layout change stays blocked and the app keeps running its code', async () => {
    const n = client.statuses.length;
    const withField = mainV1
      .replace('pub count: u64,', 'pub count: u64,\n    pub extra: u64,')
      .replace('State { count: 0 }', 'State { count: 0, extra: 7 }')
      .replace('"tip-v1"', '"tip-v3"');
    markLogs();
    await save(mainRs, withField);
    const diags = await client.waitForDiagnostics(mainRs, 'a layout warning', (d) => d.some((x) => x.code === 'struct-layout-changed'));
    assert.match(diags.find((x) => x.code === 'struct-layout-changed')!.message, /requires restart/);
    const blocked = await client.waitFor('a blocked status', () => client.statuses.slice(n).find((s) => s.patch === 'blocked'));
    assert.match(blocked.message, /restart/);
    await waitForTick('more ticks', () => ticksSinceMark().length >= 5);
    assert.ok(ticksSinceMark().every((t) => tipName(t) === 'tip-v2' && coreName(t) === 'core-v2' && t.pid === pid), 'no patch reached the app');
    const status = await client.executeCommand<{ app: string }>('subsecond.status');
    assert.equal(status.app, 'running');
  });

  it('a restart builds the blocked change for aarch64, starts it through the runner, and the new process is patched', async () => {
    markLogs();
    const restarted = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.restartApp');
    assert.equal(restarted.ok, true, restarted.message);
    const fresh = await waitForTick('the restarted app with the new layout', (t) => t.pid !== pid && tipName(t) === 'tip-v3');
    const cmdline = fs.readFileSync(`/proc/${fresh.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.some((a) => a.endsWith(QEMU)), `the restarted app runs under qemu too: ${cmdline.join(' ')}`);
    assert.ok(!isAlive(pid), `the old app (pid ${pid}) is gone`);
    await client.waitForDiagnostics(mainRs, 'the layout warning to clear', (d) => !d.some((x) => x.code === 'struct-layout-changed'));
    pid = fresh.pid;
    markLogs();
    const text = fs.readFileSync(mainRs, 'utf8').replace('"tip-v3"', '"tip-v4"');
    await save(mainRs, text);
    const lastV3 = tipOf(ticksIn(client.logs.slice(0, logCursor)).filter((t) => t.pid === pid).pop() ?? fresh);
    const patched = await waitForTick('tip=tip-v4', (t) => tipName(t) === 'tip-v4');
    assert.equal(patched.pid, pid, 'the restarted process itself was patched');
    // The restarted executable is the new fat build: its static and thread-local are bound too.
    const v4 = tipOf(patched);
    assert.ok(v4.s > lastV3.s && v4.t > lastV3.t, `the restarted app's state kept: s${lastV3.s}/t${lastV3.t} → ${patched.tip}`);
  });
});

describe(`end to end: ${TRIPLE} chosen by build.target in cargo's config (no cargoArgs)`, function () {
  this.timeout(30 * 60_000);

  before(function () {
    const missing = crossToolsMissing();
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
  });

  it('builds for the configured target, runs through its runner and patches the running app', async () => {
    // The same copy as above (its target/ is warm: build.target builds into target/<triple> too).
    const fixture = prepareCounterFixture('subsecond-lsp-e2e-cross-aarch64');
    fs.mkdirSync(path.join(fixture.counterDir, '.cargo'), { recursive: true });
    fs.writeFileSync(path.join(fixture.counterDir, '.cargo', 'config.toml'), `[build]\ntarget = "${TRIPLE}"\n\n${CROSS_CONFIG}`);
    const client = new TestLspClient({ rootDir: fixture.counterDir });
    try {
      await client.initialize();
      await client.open(fixture.mainRs, fs.readFileSync(fixture.mainRs, 'utf8'));
      const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
      assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
      assert.ok(client.logs.some((l) => new RegExp(`^target ${TRIPLE} \\(build\\.target in .*config\\.toml\\)`).test(l)), client.logs.join('\n'));
      const first = await client.waitFor('the app to tick under qemu', () => ticksIn(client.logs).pop(), 180_000);
      const cmdline = fs.readFileSync(`/proc/${first.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(cmdline.some((a) => a.endsWith(QEMU)), `pid ${first.pid} runs under qemu: ${cmdline.join(' ')}`);
      const text = fs.readFileSync(fixture.mainRs, 'utf8').replace('"tip-v1"', '"tip-bt"');
      fs.writeFileSync(fixture.mainRs, text);
      await client.changeAndSave(fixture.mainRs, text);
      const live = await client.waitFor('tip=tip-bt', () => ticksIn(client.logs).find((t) => t.tip === 'tip-bt'), 180_000);
      assert.equal(live.pid, first.pid, 'the same process was patched');
    } finally {
      assert.equal(await client.shutdown(), 0);
    }
  });
});

describe(`end to end: an ${TRIPLE} app without a runner`, function () {
  this.timeout(30 * 60_000);

  before(function () {
    const missing = crossToolsMissing() ?? (process.arch === 'x64' ? undefined : 'this machine is not x86_64: aarch64 is its own architecture');
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
  });

  it('is built (linker from --config); started directly only when binfmt_misc runs aarch64 here, else not started and the message names the runner to configure', async () => {
    // The same copy as above (its target/ is warm), without the config file: only the linker,
    // given on the command line as cargo's --config.
    const fixture = prepareCounterFixture('subsecond-lsp-e2e-cross-aarch64');
    fs.rmSync(path.join(fixture.counterDir, '.cargo'), { recursive: true, force: true });
    const client = new TestLspClient({
      rootDir: fixture.counterDir,
      initializationOptions: { cargoArgs: ['--target', TRIPLE, '--config', `target.${TRIPLE}.linker = "aarch64-linux-gnu-gcc"`] },
    });
    try {
      await client.initialize();
      const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
      const binfmt = binfmtHandlerFor('aarch64');
      if (binfmt && !binfmtLoaderProblem(binfmt, 'aarch64')) {
        // This machine's kernel runs aarch64 binaries itself (qemu-user-static registered with
        // binfmt_misc, e.g. by Debian's binfmt-support): started directly, and said so.
        console.log(`    binfmt_misc entry ${binfmt.name} runs aarch64 here: the app must start directly`);
        assert.equal(started.ok, true, started.message);
        assert.ok(client.logs.some((l) => /counter \(aarch64\) runs directly: the kernel runs it through binfmt_misc \(qemu-aarch64-static\)/.test(l)), client.logs.slice(-20).join('\n'));
        await client.waitFor('the aarch64 app to tick', () => ticksIn(client.logs).pop(), 180_000);
        const status = await client.executeCommand<{ app: string }>('subsecond.status');
        assert.equal(status.app, 'running');
        return;
      }
      assert.equal(started.ok, false, started.message);
      assert.match(started.message, /counter is built for aarch64 \(aarch64-unknown-linux-gnu\) and this machine is x86_64: (it needs a runner|binfmt_misc would run it)/);
      assert.match(started.message, /runner = \["qemu-aarch64-static", "-L", "\/usr\/aarch64-linux-gnu"\]/);
      assert.ok(client.logs.some((l) => /fat build of counter took/.test(l)), 'the build itself succeeded with the --config linker');
      const status = await client.executeCommand<{ app: string }>('subsecond.status');
      assert.notEqual(status.app, 'running');
    } finally {
      assert.equal(await client.shutdown(), 0);
    }
  });
});

describe(`end to end: entry detours in a cross-built app (clients/detours for ${TRIPLE} under qemu-user)`, function () {
  this.timeout(30 * 60_000);
  let client: TestLspClient;
  let mainRs = '';
  let mainV1 = '';
  const lines = () =>
    client.logs
      .filter((l) => l.startsWith('[app stdout]'))
      .map((l) => /^\[app stdout\]\s*plain=(\S+) dyn=(\S+) closure=(\S+) fnptr=(\S+) hot=(\S+) sig=(\d+) spin=(\d+),(\d+) frames=(\d+)/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => ({ plain: m[1], dyn: m[2], closure: m[3], frames: +m[9] }));

  before(async function () {
    const missing = crossToolsMissing();
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
    this.timeout(40 * 60_000);
    const fx = prepareClientFixture('detours', 'subsecond-lsp-detours-cross-aarch64');
    fs.mkdirSync(path.join(fx.clientDir, '.cargo'), { recursive: true });
    fs.writeFileSync(path.join(fx.clientDir, '.cargo', 'config.toml'), CROSS_CONFIG);
    mainRs = path.join(fx.clientDir, 'src', 'main.rs');
    mainV1 = fs.readFileSync(mainRs, 'utf8');
    client = new TestLspClient({ rootDir: fx.clientDir, initializationOptions: { cargoArgs: ['--target', TRIPLE] } });
    await client.initialize();
    await client.open(mainRs, mainV1);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to print', () => lines().length > 0, 180_000);
  });

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('a function the running loop calls directly goes live through an entry detour', async () => {
    const n = client.statuses.length;
    const text = mainV1.replace('"p0"', '"p-cross"').replace('"d0"', '"d-cross"').replace('"c0"', '"c-cross"');
    fs.writeFileSync(mainRs, text);
    await client.changeAndSave(mainRs, text);
    const verdict = await client.waitFor('a patch verdict', () => client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked'), 180_000);
    assert.equal(verdict.patch, 'applied', verdict.message);
    assert.match(verdict.message, /\d+ changed functions? detoured/);
    // The loop never calls subsecond::call: only the detours can make these values change.
    await client.waitFor('the new values', () => lines().find((l) => l.plain === 'p-cross' && l.dyn === 'd-cross' && l.closure === 'c-cross'), 60_000);
  });
});

describe(`subsecond-lsp doctor for a cross target (${TRIPLE})`, function () {
  this.timeout(10 * 60_000);
  const doctor = (manifest: string): { code: number | null; out: string; line: (title: string) => string } => {
    const r = spawnSync(process.execPath, [SERVER_BIN, 'doctor', '--manifest-path', manifest, '--', '--target', TRIPLE], { encoding: 'utf8', timeout: 300_000 });
    const out = r.stdout + r.stderr;
    const lines = out.split('\n');
    // "✓ title   detail" and, for a failure, its "fix:" line below
    const line = (title: string) => {
      const i = lines.findIndex((l) => new RegExp(`^[✓!✗-] ${title}\\s{2,}`).test(l));
      return i < 0 ? '' : [lines[i], /^\s+fix: /.test(lines[i + 1] ?? '') ? lines[i + 1].trim() : ''].join('\n');
    };
    return { code: r.status, out, line };
  };

  before(function () {
    const missing = crossToolsMissing();
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
  });

  it('without a cross set-up: the linker and the runner fail, each with its fix (the runner passes where binfmt_misc runs aarch64)', () => {
    const fx = prepareClientFixture('counter', 'subsecond-lsp-doctor-cross-bare');
    const r = doctor(path.join(fx.clientDir, 'Cargo.toml'));
    assert.equal(r.code, 1, r.out);
    assert.match(r.line('target'), new RegExp(`^✓ target\\s+${TRIPLE} \\(cargoArgs --target\\), installed`), r.out);
    assert.match(r.line('target linker'), new RegExp(`^✗ .*no target\\.${TRIPLE}\\.linker[^]*fix: .*linker = "aarch64-linux-gnu-gcc"`), r.out);
    const binfmt = binfmtHandlerFor('aarch64');
    if (binfmt && !binfmtLoaderProblem(binfmt, 'aarch64')) {
      // the kernel runs aarch64 here (binfmt_misc): the runner check says how, and passes
      assert.match(r.line('runner'), new RegExp(`^✓ runner\\s+the aarch64 app runs directly on this x86_64 machine: the kernel runs it through binfmt_misc \\(qemu-aarch64-static\\), entry ${binfmt.name}`), r.out);
    } else {
      assert.match(r.line('runner'), /^✗ .*cannot run directly[^]*fix: .*runner = \["qemu-aarch64-static"/, r.out);
    }
  });

  it("with cargo's cross set-up: target, linker (a real test patch) and runner pass", () => {
    const fx = prepareClientFixture('counter', 'subsecond-lsp-doctor-cross');
    fs.mkdirSync(path.join(fx.clientDir, '.cargo'), { recursive: true });
    fs.writeFileSync(path.join(fx.clientDir, '.cargo', 'config.toml'), CROSS_CONFIG);
    const r = doctor(path.join(fx.clientDir, 'Cargo.toml'));
    assert.match(r.line('target linker'), /^✓ target linker\s+`aarch64-linux-gnu-gcc` \(.*config\.toml\); a test patch linked with (rust-lld|lld|mold|gnu-ld)/, r.out);
    assert.match(r.line('runner'), /^✓ runner\s+the app runs through `qemu-aarch64-static -L \/usr\/aarch64-linux-gnu`/, r.out);
    assert.equal(r.code, 0, r.out);
  });
});
