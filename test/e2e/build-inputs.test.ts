// An app built from more than its crates' Rust code (clients/build-inputs): a data file read with
// include_str!, a proc-macro crate, a library with a build script, the manifest. The real server
// over stdio runs it. A saved data file rebuilds the crate that reads it and goes live in the same
// process; edits a patch cannot carry become "requires restart" findings on the edited file, block
// the patch, and nothing reaches the app. Reverting an edit clears its finding. A proc-macro edit
// is rebuilt with the crates that expand it and gated by the compiled layouts. Changes are made
// on disk only (as git or another tool would): the file watcher must see them.
// Generous waits, no timing asserts.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient, Diagnostic } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { AppLine, appLinesIn } from '../support/app-lines';

describe('end to end: data files, proc-macros, build scripts and manifests', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let dir: string;
  let pid: number;
  let logCursor = 0;
  const originals = new Map<string, string>();

  const file = (rel: string) => path.join(dir, rel);
  const markLogs = () => (logCursor = client.logs.length);
  const linesSinceMark = () => appLinesIn(client.logs.slice(logCursor));
  const latest = (): AppLine | undefined => appLinesIn(client.logs).pop();
  const waitForLine = (what: string, pred: (t: AppLine) => boolean, timeoutMs = 180_000) =>
    client.waitFor(what, () => linesSinceMark().find(pred), timeoutMs);
  const status = () => client.executeCommand<{ app: string; patch: string; patchesApplied: number; blockingFindings: number; message: string }>('subsecond.status');
  const write = (rel: string, text: string) => fs.writeFileSync(file(rel), text);
  const revert = (rel: string) => write(rel, originals.get(rel)!);

  before(async function () {
    this.timeout(30 * 60_000);
    dir = prepareClientFixture('build-inputs', 'subsecond-lsp-e2e-build-inputs').clientDir;
    for (const rel of ['data/motd.txt', 'station-macros/src/lib.rs', 'station-info/build.rs', 'station-info/data/stations.txt', 'station-gen/src/lib.rs', 'Cargo.toml', 'src/main.rs']) {
      originals.set(rel, fs.readFileSync(file(rel), 'utf8'));
    }
    client = new TestLspClient({ rootDir: dir });
    await client.initialize();
    await client.open(file('src/main.rs'), originals.get('src/main.rs')!);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => latest(), 120_000);
    pid = latest()!.pid;
    assert.equal(latest()!.fields.motd, 'motd-v1');
  });

  after(async () => {
    // the server's side of the story, for a failure's post-mortem
    if (client) client.writeServerLog('build-inputs');
    if (client) assert.equal(await client.shutdown(), 0);
  });

  /** Writes the file, waits for its restart finding, checks the patch is blocked and the app untouched; then reverts it. */
  const blockedUntilReverted = async (rel: string, edited: string, code: string, message: RegExp) => {
    const applied = (await status()).patchesApplied;
    const n = client.statuses.length;
    markLogs();
    write(rel, edited);
    const diags = await client.waitForDiagnostics(file(rel), `a ${code} finding`, (d) => d.some((x) => x.code === code), 60_000);
    const finding = diags.find((x) => x.code === code) as Diagnostic;
    assert.match(finding.message, message);
    assert.match(finding.message, /[Rr]equires restart/);
    const blocked = await client.waitFor('a blocked status', () => client.statuses.slice(n).find((s) => s.patch === 'blocked'));
    assert.match(blocked.message, new RegExp(code));
    assert.ok(!client.statuses.slice(n).some((s) => s.patch === 'building'), 'no patch was built');
    await waitForLine('more ticks', () => linesSinceMark().length >= 4);
    assert.ok(
      linesSinceMark().every((t) => t.pid === pid && t.fields.banner === 'banner-v1' && t.fields.stamp === 'stamp-v1' && t.fields.stations === 'north,south' && t.fields.schema === 'schema-v1'),
      'the app runs what it was built with',
    );
    const s = await status();
    assert.equal(s.patchesApplied, applied, 'no patch reached the app');
    assert.ok(s.blockingFindings >= 1);
    revert(rel);
    await client.waitForDiagnostics(file(rel), `the ${code} finding to clear`, (d) => !d.some((x) => x.code === code), 60_000);
  };

  it('a saved include_str! data file rebuilds its crate: live in the same process', async () => {
    const before = latest()!;
    markLogs();
    write('data/motd.txt', 'motd-v2');
    const after = await waitForLine('motd=motd-v2', (t) => t.fields.motd === 'motd-v2');
    assert.equal(after.pid, pid);
    assert.ok(after.tick > before.tick);
    const s = await client.waitFor('the applied status', () => client.statuses.find((x) => x.patch === 'applied' && /patched motd\.txt/.test(x.message)));
    assert.equal(s.patchesApplied, 1);
  });

  it('a proc-macro edit that changes only the code it generates is rebuilt, gated and live in the same process', async () => {
    const rel = 'station-macros/src/lib.rs';
    const applied = (await status()).patchesApplied;
    const n = client.statuses.length;
    markLogs();
    // The macro's own struct changes its layout too: it lives in rustc, not in the app, so it is
    // no struct-layout-changed finding.
    write(
      rel,
      originals
        .get(rel)!
        .replace('banner-v1', 'banner-v2')
        .replace("    text: &'static str,\n}", "    text: &'static str,\n    width: usize,\n}")
        .replace('Banner { text: "banner-v2" }', 'Banner { text: "banner-v2", width: 9 }')
        .replace('banner.text).parse()', 'banner.text.get(..banner.width).unwrap_or(banner.text)).parse()'),
    );
    const after = await waitForLine('banner=banner-v2', (t) => t.fields.banner === 'banner-v2');
    assert.equal(after.pid, pid, 'the same process was patched');
    const s = await client.waitFor('the applied status', () => client.statuses.slice(n).find((x) => x.patch === 'applied' && x.patchesApplied > applied));
    assert.equal(s.patchesApplied, applied + 1);
    assert.match(s.message, /layouts verified \(\d+ compared\)/, s.message);
    assert.match(s.message, /layouts verified \(\d+ compared\); proc-macro `station_macros` re-expanded: every crate using it \(`station`\) rebuilt/, s.message);
    assert.deepEqual(client.diagnosticsFor(file(rel)).filter((d) => d.severity === 2), [], 'no finding on the proc-macro crate');
  });

  it('a proc-macro edit that adds a field to the struct it generates is blocked by the layout gate, naming the type', async () => {
    const rel = 'station-macros/src/lib.rs';
    const applied = (await status()).patchesApplied;
    const n = client.statuses.length;
    markLogs();
    const edited = originals
      .get(rel)!
      .replace('banner-v1', 'banner-v3')
      .replace('pub level: u32,', 'pub level: u32,\n        pub spare: u64,')
      .replace('Gauge { level }', 'Gauge { level, spare: 7 }');
    write(rel, edited);
    const diags = await client.waitForDiagnostics(file(rel), 'a compiled-layout-changed finding', (d) => d.some((x) => x.code === 'compiled-layout-changed'), 300_000);
    const finding = diags.find((x) => x.code === 'compiled-layout-changed')!;
    assert.match(finding.message, /`station::Gauge`/, finding.message);
    assert.match(finding.message, /Gauge: 4 → 16 bytes/, finding.message);
    const blocked = await client.waitFor('the blocked status', () => client.statuses.slice(n).find((x) => x.patch === 'blocked' && /compiled layout/.test(x.message)), 60_000);
    assert.match(blocked.message, /nothing was sent/);
    // alive, same process, the code of the last patch (banner-v2), not the blocked one's banner-v3
    await waitForLine('more ticks', () => linesSinceMark().length >= 4);
    assert.ok(linesSinceMark().every((t) => t.pid === pid && t.fields.banner === 'banner-v2'), linesSinceMark().map((t) => t.line).join('\n'));
    assert.equal((await status()).patchesApplied, applied, 'no patch reached the app');
  });

  it('the proc-macro reverted goes live again and the gate finding clears', async () => {
    const rel = 'station-macros/src/lib.rs';
    markLogs();
    revert(rel);
    const after = await waitForLine('banner=banner-v1', (t) => t.fields.banner === 'banner-v1');
    assert.equal(after.pid, pid);
    await client.waitForDiagnostics(file(rel), 'the gate finding to clear', (d) => !d.some((x) => x.code === 'compiled-layout-changed'), 60_000);
  });

  it('an edit of a build script is a restart finding, not a patch', async () => {
    const rel = 'station-info/build.rs';
    await blockedUntilReverted(rel, originals.get(rel)!.replace('stamp-v1', 'stamp-v2'), 'build-script-changed', /build script/);
  });

  it('a file a build script reads (rerun-if-changed) is a restart finding naming the file and the script', async () => {
    const rel = 'station-info/data/stations.txt';
    await blockedUntilReverted(rel, 'north,south,east\n', 'build-script-input-changed', /station-info\/data\/stations\.txt is read by the build script of `station-info`/);
  });

  it('an edit of a build-dependency library is a restart finding naming it', async () => {
    const rel = 'station-gen/src/lib.rs';
    await blockedUntilReverted(rel, originals.get(rel)!.replace('schema-v1', 'schema-v2'), 'build-dependency-changed', /`station_gen` is a build-dependency of `station-info`'s build script/);
  });

  it('a cargoArgs change while the app runs says the app keeps its build until a restart', async () => {
    const n = client.messages.length;
    const applied = (await status()).patchesApplied;
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { subsecond: { cargoArgs: ['--features', 'loud'] } } });
    const warned = await client.waitFor('a cargoArgs warning', () => client.messages.slice(n).find((m) => /setting "cargoArgs"/.test(m.message)));
    assert.match(warned.message, /changed to `--features loud`, but the running app was built with no extra arguments/);
    assert.match(warned.message, /Requires restart/);
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { subsecond: {} } });
    await client.waitFor('the all-clear', () => client.messages.slice(n).find((m) => /"cargoArgs" is back to no extra arguments/.test(m.message)));
    assert.equal((await status()).patchesApplied, applied, 'nothing was patched or rebuilt');
    assert.equal(latest()!.pid, pid, 'the app still runs');
  });

  it('a feature added to Cargo.toml is a restart finding that says what changed', async () => {
    await blockedUntilReverted('Cargo.toml', `${originals.get('Cargo.toml')}\n[features]\nloud = []\n`, 'manifest-changed', /features changed/);
  });

  it('after the reverts nothing is stuck, and a comment-only edit of Cargo.toml blocks nothing', async () => {
    write('Cargo.toml', originals.get('Cargo.toml')!.replace('resolver = "2"', 'resolver = "2" # only a comment'));
    // Let the watcher report the manifest first: had it made a finding, the data file below would be blocked.
    await new Promise((r) => setTimeout(r, 1000));
    markLogs();
    write('data/motd.txt', 'motd-v3');
    const after = await waitForLine('motd=motd-v3', (t) => t.fields.motd === 'motd-v3');
    assert.equal(after.pid, pid);
    assert.ok(!client.diagnosticsFor(file('Cargo.toml')).some((d) => d.code === 'manifest-changed'));
    assert.equal((await status()).blockingFindings, 0);
    revert('Cargo.toml');
  });
});

// The same app with the binary crate's debug info limited to line tables (`debug = "limited"`,
// through cargoArgs): its patch objects describe no types, so the layout gate cannot verify what
// an edited proc-macro generates, and the edit stays restart-class.
describe('end to end: a proc-macro edit the layout gate cannot verify', function () {
  this.timeout(20 * 60_000);
  let client: TestLspClient;
  let dir: string;
  let original = '';
  const rel = 'station-macros/src/lib.rs';
  const file = () => path.join(dir, rel);
  const latest = (): AppLine | undefined => appLinesIn(client.logs).pop();

  before(async function () {
    this.timeout(30 * 60_000);
    dir = prepareClientFixture('build-inputs', 'subsecond-lsp-e2e-build-inputs').clientDir;
    original = fs.readFileSync(file(), 'utf8');
    client = new TestLspClient({ rootDir: dir, initializationOptions: { cargoArgs: ['--config', 'profile.dev.package.station.debug="limited"'] } });
    await client.initialize();
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    await client.waitFor('the app to tick', () => latest(), 180_000);
  });

  after(async () => {
    if (client) client.writeServerLog('build-inputs-unverified');
    if (client) assert.equal(await client.shutdown(), 0);
  });

  it('is built, not sent, and becomes a proc-macro-changed restart finding saying why; a revert clears it', async () => {
    const pid = latest()!.pid;
    const n = client.statuses.length;
    const cursor = client.logs.length;
    fs.writeFileSync(file(), original.replace('banner-v1', 'banner-v2'));
    const diags = await client.waitForDiagnostics(file(), 'a proc-macro-changed finding', (d) => d.some((x) => x.code === 'proc-macro-changed'), 300_000);
    const finding = diags.find((x) => x.code === 'proc-macro-changed')!;
    assert.match(finding.message, /layouts of the macro's expansion could not be verified \(layouts unverified: .*no types/, finding.message);
    assert.match(finding.message, /Requires restart/);
    const blocked = await client.waitFor('the blocked status', () => client.statuses.slice(n).find((s) => s.patch === 'blocked'), 60_000);
    assert.match(blocked.message, /`station_macros`: proc-macro-changed, the layouts of the macro's expansion could not be verified/, blocked.message);
    assert.match(blocked.message, /Nothing was sent/);
    const lines = () => appLinesIn(client.logs.slice(cursor));
    const before = lines().length;
    await client.waitFor('more ticks', () => lines().length >= before + 4 || undefined, 30_000);
    assert.ok(lines().every((t) => t.pid === pid && t.fields.banner === 'banner-v1'), 'the app runs what it was built with');
    assert.equal(Math.max(0, ...client.statuses.map((s) => s.patchesApplied)), 0, 'no patch reached the app');
    fs.writeFileSync(file(), original);
    await client.waitForDiagnostics(file(), 'the finding to clear', (d) => !d.some((x) => x.code === 'proc-macro-changed'), 60_000);
  });
});
