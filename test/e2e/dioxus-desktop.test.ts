// A real Dioxus 0.7 desktop app (clients/dioxus-desktop: dioxus::launch, components with props,
// a signal, an event handler, a child component, an asset!() stylesheet), built and started by
// the real server over stdio, in a WebKitGTK window on a private Xvfb display. It connects through
// Dioxus' own devtools client. What the window shows is read back from the page itself: in debug
// builds the fixture evaluates JavaScript in the webview every half second (the page's text, the
// title's computed colour, the count) and prints it as a `DOM pid=… {json}` line; it also clicks
// the button, so the count rises through the real event handler. Each claim the server makes
// ("⚡ patched", "🔥 rsx! updated", "🎨 … reload its stylesheets") must show up in that window, in
// the same process. An rsx! edit of statics goes as templates, as dx serve sends them: the test
// proves no build ran for it (no patch counted, no "building" state, no patch library logged).
// Generous waits, no timing asserts. Skipped (with the reason) only where Xvfb or WebKitGTK is
// missing; .ci/run installs both.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { Xvfb, startXvfbOrSkip } from '../support/xvfb';
import { readsIn, WindowRead } from '../support/dioxus-window';

describe('end to end: a Dioxus desktop app is hot-patched in its real window', function () {
  this.timeout(40 * 60_000);
  let xvfb: Xvfb | undefined;
  let client: TestLspClient;
  let clientDir: string;
  let mainRs: string;
  let cssFile: string;
  let mainText: string;
  let pid: number;
  let logCursor = 0;

  const markLogs = () => (logCursor = client.logs.length);
  const reads = () => readsIn(client.logs);
  const latest = (): WindowRead | undefined => reads().pop();
  const readSince = (what: string, pred: (r: WindowRead) => boolean, timeoutMs = 60_000) =>
    client.waitFor(what, () => readsIn(client.logs.slice(logCursor)).find(pred), timeoutMs);

  /** Writes main.rs with replacements (one write) and sends didSave; returns the status count before. */
  const save = async (edits: Array<[string, string]>) => {
    for (const [a, b] of edits) {
      assert.ok(mainText.includes(a), `the fixture holds ${a}`);
      mainText = mainText.replace(a, b);
    }
    fs.writeFileSync(mainRs, mainText); // an editor writes the file, then sends didSave
    const n = client.statuses.length;
    markLogs();
    await client.changeAndSave(mainRs, mainText);
    return n;
  };

  /** Saves main.rs with replacements (one write) and waits for the server's patch verdict on that save. */
  const saveMain = async (from: string, to: string, ...more: Array<[string, string]>) => {
    // The board re-sends its snapshot on other events (findings, a stylesheet): a verdict is a
    // new message in a final state.
    const previous = client.statuses[client.statuses.length - 1]?.message;
    const n = await save([[from, to], ...more]);
    return client.waitFor(
      'a patch verdict',
      () => client.statuses.slice(n).find((s) => s.message !== previous && (s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked')),
      15 * 60_000,
    );
  };

  const patchesApplied = async () => (await client.executeCommand<{ patchesApplied: number }>('subsecond.status')).patchesApplied;

  /**
   * An rsx! edit of statics: sent as templates with no build, then seen in the same window. No
   * build means: no patch counted, no "building" state on the way, no patch library in the log.
   */
  const templateAndSee = async (edits: Array<[string, string]>, what: string, seen: (r: WindowRead) => boolean) => {
    const applied = await patchesApplied();
    const before = latest()!;
    const previous = client.statuses[client.statuses.length - 1]?.message;
    const n = await save(edits);
    // Each send is logged with its keys: a fresh line, unlike a status message that may repeat.
    const outcome = await client.waitFor(
      'the template update (or a patch verdict)',
      () =>
        client.logs.slice(logCursor).find((l) => /rsx! template update: src\/main\.rs:\d+:\d+#\d+/.test(l)) ??
        client.statuses.slice(n).find((s) => s.message !== previous && (s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked'))?.message,
      15 * 60_000,
    );
    assert.match(outcome, /rsx! template update/, `a template update, not a patch verdict\n${client.logs.slice(logCursor).filter((l) => !l.includes('DOM pid=')).join('\n')}`);
    const status = await client.executeCommand<{ patch: string; message: string }>('subsecond.status');
    assert.match(status.message, /^🔥 rsx! updated in main\.rs in \d+ ms: \d+ templates? sent \(no build; the window applies it, dioxus does not report back\)$/);
    assert.notEqual(status.patch, 'applied', 'a template update is not called a patch');
    const after = await readSince(what, seen, 30_000);
    assert.equal(after.pid, pid, 'the same process shows it');
    assert.ok(after.count >= before.count, `the count kept its value: ${before.count} before, ${after.count} after`);
    assert.equal(await patchesApplied(), applied, 'no patch was counted');
    assert.deepEqual(client.statuses.slice(n).filter((s) => s.patch === 'building').map((s) => s.message), [], 'no build started');
    const built = client.logs.slice(logCursor).filter((l) => /-patch-\d+\.so|building patch/.test(l));
    assert.deepEqual(built, [], 'nothing was built or sent as a patch');
    return after;
  };

  /** A patch that must be claimed and then seen in the same window, with the count kept. */
  const patchAndSee = async (from: string, to: string, what: string, seen: (r: WindowRead) => boolean) => {
    const before = latest()!;
    const verdict = await saveMain(from, to);
    assert.equal(verdict.patch, 'applied', verdict.message);
    assert.match(verdict.message, /^⚡ patched main\.rs/);
    assert.doesNotMatch(verdict.message, /starts fresh/);
    // An immutable static (`static MAIN_CSS: Asset`) keeps nothing to lose: no note about it.
    const notes = client.logs.slice(logCursor).filter((l) => /starts fresh/.test(l));
    assert.deepEqual(notes, [], 'no state-loss note for immutable statics or rsx!\'s template cache');
    const after = await readSince(what, seen, 60_000);
    assert.equal(after.pid, pid, 'the same process shows it');
    // The count is App's signal: a patch re-renders, it does not reset hook state.
    assert.ok(after.count >= before.count, `the count kept its value: ${before.count} before, ${after.count} after`);
    return after;
  };

  before(async function () {
    this.timeout(40 * 60_000);
    xvfb = await startXvfbOrSkip(this);
    const fixture = prepareClientFixture('dioxus-desktop', 'subsecond-lsp-e2e-dioxus');
    clientDir = fixture.clientDir;
    mainRs = path.join(clientDir, 'src', 'main.rs');
    cssFile = path.join(clientDir, 'assets', 'main.css');
    mainText = fs.readFileSync(mainRs, 'utf8');
    assert.ok(!/subsecond[_-]agent/.test(fs.readFileSync(path.join(clientDir, 'Cargo.toml'), 'utf8')), 'the fixture must not use the agent');
    client = new TestLspClient({
      rootDir: clientDir,
      // WebKit's sandbox needs user namespaces a CI container may lack; compositing needs a GPU.
      env: { ...process.env, DISPLAY: xvfb.display, WEBKIT_DISABLE_COMPOSITING_MODE: '1', WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: '1' },
    });
    await client.initialize();
    await client.open(mainRs, mainText);
    // The first run compiles dioxus, wry, WebKitGTK bindings and friends (minutes).
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    const first = await client.waitFor('the window to be read', () => latest(), 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${client.logs.slice(-40).join('\n')}`);
    });
    pid = first.pid;
  });

  after(async () => {
    if (client) {
      const code = await client.shutdown();
      assert.equal(code, 0);
    }
    await xvfb?.stop();
  });

  it('starts through Dioxus\' devtools client, with its asset!() stylesheet applied', async () => {
    const running = client.statuses.filter((s) => s.app === 'running').pop();
    assert.ok(running, 'a running status was published');
    assert.match(running.message, /connected through a dx-compatible client/);
    const r = await client.waitFor('the window to show the app', () => reads().find((x) => x.title === 'Hello from Dioxus'), 60_000);
    assert.equal(r.pid, pid);
    assert.equal(r.titleColor, 'rgb(200, 30, 60)', 'main.css (asset!) colours the title');
    // The probe clicks the button: the event handler raises the count, one per click.
    const c = await client.waitFor('a few clicks', () => reads().find((x) => x.count >= 3), 60_000);
    assert.match(c.text, /Greetings after \d+ clicks/);
  });

  it('static text in the root component\'s rsx! shows in the window with no build (a template update)', async () => {
    await templateAndSee([['"Hello from Dioxus"', '"Hello from a template"']], 'the new title', (r) => r.title === 'Hello from a template');
    // …and the old text does not come back.
    markLogs();
    await readSince('more reads', () => readsIn(client.logs.slice(logCursor)).length >= 3);
    assert.ok(readsIn(client.logs.slice(logCursor)).every((r) => r.title === 'Hello from a template'));
  });

  it('a literal attribute added, changed and removed shows with no build; the last one is the compiled template again', async () => {
    // An inline style beats main.css's #title rule: the title's computed colour is the attribute's.
    await templateAndSee([['h1 { id: "title",', 'h1 { id: "title", style: "color: rgb(1, 2, 3)",']], 'the inline colour', (r) => r.titleColor === 'rgb(1, 2, 3)');
    await templateAndSee([['style: "color: rgb(1, 2, 3)",', 'style: "color: rgb(4, 5, 6)",']], 'the changed colour', (r) => r.titleColor === 'rgb(4, 5, 6)');
    // Back to the attributes the app was built with: diffed against the compiled text, the
    // template differs from the one last sent, so it is sent (as dx does).
    const r = await templateAndSee([[' style: "color: rgb(4, 5, 6)",', '']], 'the stylesheet colour again', (x) => x.titleColor === 'rgb(200, 30, 60)');
    assert.equal(r.title, 'Hello from a template', 'the text edit sent before stays');
  });

  it('an event handler\'s new body runs on the next click (a patch, which also carries the rsx! text sent as a template)', async () => {
    const before = latest()!;
    await patchAndSee('onclick: move |_| count += 1,', 'onclick: move |_| count += 1000,', 'clicks that add 1000', (r) => r.count >= before.count + 1000);
    // The patched code has its own templates (the app dropped the ones it was sent): the title
    // it shows now is the patched code's.
    assert.equal(latest()!.title, 'Hello from a template');
  });

  it('after the patch, another static text edit is again a template update', async () => {
    await templateAndSee([['"Hello from a template"', '"Hello from a patch"']], 'the title after the patch', (r) => r.title === 'Hello from a patch');
  });

  it('a helper function\'s change shows', async () => {
    await patchAndSee('format!("Greetings after {count} clicks")', 'format!("Patched greeting at {count}")', 'the new greeting', (r) => /Patched greeting at \d+/.test(r.text));
  });

  it('a child component\'s formatted text changes with no build, the count it gets as a prop is kept; typed and paused first, nothing is prepared for it', async () => {
    const edit: [string, string] = ['p { id: "count", "{label}: {count}" }', 'p { id: "count", "{label} so far: {count}" }'];
    const from = client.logs.length;
    await client.change(mainRs, mainText.replace(edit[0], edit[1]));
    await client.waitFor('the speculation\'s note', () => client.logs.slice(from).find((l) => /speculative build: /.test(l)), 30_000);
    const notes = client.logs.slice(from).filter((l) => /speculative build: /.test(l));
    assert.ok(notes.length > 0 && notes.every((l) => /speculative build: nothing built: an rsx! template update, sent on save without a build$/.test(l)), notes.join('\n'));
    await templateAndSee([['p { id: "count", "{label}: {count}" }', 'p { id: "count", "{label} so far: {count}" }']], 'the child\'s new text', (r) => /Clicks so far: \d+/.test(r.text));
  });

  it('a save that changes rsx! text and code is built and patched, and shows both', async () => {
    const before = latest()!;
    const verdict = await saveMain('"Hello from a patch"', '"Hello from text and code"', ['count += 1000,', 'count += 7,']);
    assert.equal(verdict.patch, 'applied', verdict.message);
    assert.match(verdict.message, /^⚡ patched main\.rs/);
    const after = await readSince('the title and the new step', (r) => r.title === 'Hello from text and code' && r.count > before.count && (r.count - before.count) % 1000 !== 0, 60_000);
    assert.equal(after.pid, pid);
    // The child's text sent as a template before the patch is the patched code's own now.
    assert.match(after.text, /Clicks so far: \d+/);
  });

  it('with patchOn "pause", rsx! text typed and left for a pause goes to the window as templates, unsaved; undone, the saved text\'s template goes back', async () => {
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { patchOn: 'pause', pauseMs: 200 } });
    const applied = await patchesApplied();
    const disk = fs.readFileSync(mainRs, 'utf8');
    const sentSince = (from: number) => client.logs.slice(from).filter((l) => /rsx! template update: src\/main\.rs/.test(l)).length;
    try {
      markLogs();
      const from = logCursor;
      await client.change(mainRs, mainText.replace('"Hello from text and code"', '"Hello, live"'));
      await client.waitFor('the live template update', () => sentSince(from) >= 1, 60_000);
      const status = await client.executeCommand<{ patch: string; message: string }>('subsecond.status');
      assert.match(status.message, /^🔥 rsx! updated in main\.rs \(unsaved\) in \d+ ms: \d+ templates? sent \(no build/);
      const live = await readSince('the live title', (r) => r.title === 'Hello, live', 30_000);
      assert.equal(live.pid, pid);
      assert.equal(fs.readFileSync(mainRs, 'utf8'), disk, 'the file on disk is untouched');
      // The buffer back to the saved text: what the window was sent differs from it, so the
      // saved text's template goes out.
      const undo = client.logs.length;
      await client.change(mainRs, mainText);
      await client.waitFor('the undo sent', () => sentSince(undo) >= 1, 60_000);
      await readSince('the saved title again', (r) => r.title === 'Hello from text and code', 30_000);
      assert.equal(await patchesApplied(), applied, 'no patch was counted');
      assert.deepEqual(client.logs.slice(from).filter((l) => /-patch-\d+\.so|building patch/.test(l)), [], 'nothing was built');
    } finally {
      await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    }
  });

  it('an edited stylesheet is reloaded in the window without a build', async () => {
    const n = client.statuses.length;
    markLogs();
    fs.writeFileSync(cssFile, '#title {\n    color: rgb(20, 120, 40);\n}\n');
    const said = await client.waitFor('the stylesheet status', () => client.statuses.slice(n).find((s) => /main\.css/.test(s.message)), 30_000);
    assert.match(said.message, /🎨 main\.css changed: the window was told to reload its stylesheets/);
    const r = await readSince('the new title colour', (x) => x.titleColor === 'rgb(20, 120, 40)', 30_000);
    assert.equal(r.pid, pid);
    assert.equal(r.title, 'Hello from text and code', 'the patched rsx! text stays');
  });

  it('a new prop on a component is restart-class and names the component; nothing is sent', async () => {
    const status = () => client.executeCommand<{ patchesApplied: number }>('subsecond.status');
    const applied = (await status()).patchesApplied;
    const verdict = await saveMain('fn Counter(label: String, count: i32)', 'fn Counter(label: String, count: i32, #[props(default)] step: i32)');
    assert.equal(verdict.patch, 'blocked', verdict.message);
    const diags = client.diagnosticsFor(mainRs);
    const restart = diags.find((d) => /Counter/.test(d.message) && d.severity === 1 || /Counter/.test(d.message));
    assert.ok(restart, `a finding names Counter: ${diags.map((d) => d.message).join(' | ')}`);
    assert.equal((await status()).patchesApplied, applied, 'no patch was claimed');
    // The window keeps running the last patched code.
    markLogs();
    const r = await readSince('the window still running', () => true, 30_000);
    assert.equal(r.pid, pid);
    assert.equal(r.title, 'Hello from text and code');
  });
});
