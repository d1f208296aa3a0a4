// The per-function lens on a Dioxus component, and Dioxus' global signals, against a real Dioxus
// 0.7 desktop app (clients/dioxus-desktop) under Xvfb, through the real server over stdio.
// Dioxus' devtools client applies a patch without answering, so the lens must not say "✓ live":
// a saved component edit is "⚡ patch component (whole pending change)", and once patched it is
// "↗ sent · patch N (not confirmed …)" — while the window (read back from the page by the
// fixture's probe) shows the patch did arrive, which is the only proof there is. The test's copy
// of the fixture gets a `GlobalSignal` the button raises (written before the start, in the copy
// only): a patch of code reading it must link (it is immutable data the engine must not rebind),
// a changed initializer keeps the running value, and a line added above it gives patched code a
// fresh signal — each said before, and seen in the window. autoPatch is off so the pending state
// can be read before the patch. Skipped (with the reason) where Xvfb or WebKitGTK is missing.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { Xvfb, startXvfbOrSkip } from '../support/xvfb';
import { readsIn } from '../support/dioxus-window';

interface Lens {
  range: { start: { line: number }; end: { line: number } };
  command: { title: string; command: string };
}

describe('end to end: the lens on a Dioxus component says what the running app has', function () {
  this.timeout(40 * 60_000);
  let xvfb: Xvfb | undefined;
  let client: TestLspClient;
  let mainRs: string;
  let mainText: string;
  let pid: number;

  const lenses = () => client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: client.uri(mainRs) } });
  const lineOf = (needle: string) => mainText.split('\n').findIndex((l) => l.includes(needle));
  /** The lens whose range holds the line of `needle` (a function's range starts at its attributes). */
  const lensOn = (all: Lens[], needle: string, title: RegExp) => {
    const line = lineOf(needle);
    return all.find((l) => l.range.start.line <= line && line <= l.range.end.line && l.range.start.line > 0 && title.test(l.command.title));
  };

  /** Lenses are asked for, not pushed: ask until one matches. */
  const pollLens = async (what: string, needle: string, title: RegExp, timeoutMs = 60_000): Promise<Lens> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await lenses();
      const hit = lensOn(all, needle, title);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${all.map((l) => `${l.range.start.line}: ${l.command.title}`).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  before(async function () {
    xvfb = await startXvfbOrSkip(this);
    // The same copy as dioxus-desktop.test.ts: its target/ is warm after either test ran.
    const fixture = prepareClientFixture('dioxus-desktop', 'subsecond-lsp-e2e-dioxus');
    mainRs = path.join(fixture.clientDir, 'src', 'main.rs');
    mainText = fs.readFileSync(mainRs, 'utf8');
    for (const [from, to] of [
      ['static MAIN_CSS: Asset = asset!("/assets/main.css");', 'static MAIN_CSS: Asset = asset!("/assets/main.css");\nstatic GLOBAL_CLICKS: GlobalSignal<i32> = Signal::global(|| 0);'],
      ['onclick: move |_| count += 1,', 'onclick: move |_| { count += 1; *GLOBAL_CLICKS.write() += 1; },'],
      ['p { id: "greeting", "{greeting(count())}" }', 'p { id: "greeting", "{greeting(count())}" }\n            p { id: "global", "global {GLOBAL_CLICKS}" }'],
    ]) {
      assert.ok(mainText.includes(from), `the fixture holds ${from}`);
      mainText = mainText.replace(from, to);
    }
    fs.writeFileSync(mainRs, mainText);
    client = new TestLspClient({
      rootDir: fixture.clientDir,
      configuration: { autoPatch: false },
      env: { ...process.env, DISPLAY: xvfb.display, WEBKIT_DISABLE_COMPOSITING_MODE: '1', WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: '1' },
    });
    await client.initialize();
    await client.open(mainRs, mainText);
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, `startApp: ${started.message}\n${client.logs.slice(-30).join('\n')}`);
    const first = await client.waitFor('the window to be read', () => readsIn(client.logs).pop(), 180_000);
    pid = first.pid;
  });

  /** Saves main.rs with the replacements, patches, and returns the verdict. */
  const saveAndPatch = async (edits: Array<[string, string]>) => {
    for (const [from, to] of edits) {
      assert.ok(mainText.includes(from), `main.rs holds ${from}`);
      mainText = mainText.replace(from, to);
    }
    fs.writeFileSync(mainRs, mainText);
    await client.changeAndSave(mainRs, mainText);
    const n = client.statuses.length;
    const patched = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.patch');
    assert.equal(patched.ok, true, patched.message);
    return client.waitFor('the patch verdict', () => client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed' || s.patch === 'blocked'), 15 * 60_000);
  };
  const globalIn = (text: string) => Number(/global (\d+)/.exec(text)?.[1] ?? NaN);
  const diagnosticsOf = (code: string) => (client.diagnostics.get(client.uri(mainRs)) ?? []).filter((d) => d.code === code);

  after(async () => {
    if (client) assert.equal(await client.shutdown(), 0);
    await xvfb?.stop();
  });

  it('an edited component is "⚡ patch component", then "↗ sent · patch N (not confirmed)", never "✓ live"', async () => {
    // nothing differs yet: no per-function lens
    assert.deepEqual((await lenses()).filter((l) => l.range.start.line > 0).map((l) => l.command.title), []);

    mainText = mainText.replace('p { id: "count", "{label}: {count}" }', 'p { id: "count", "{label} (lens): {count}" }');
    fs.writeFileSync(mainRs, mainText);
    await client.changeAndSave(mainRs, mainText);
    const pending = await pollLens('the pending component lens', 'fn Counter(', /^⚡ patch component \(whole pending change\)$/);
    assert.equal(pending.command.command, 'subsecond.patch');
    const others = (await lenses()).filter((l) => l.range.start.line > 0 && l !== pending);
    assert.equal(lensOn(others, 'fn App(', /./), undefined, 'App did not change: no lens on it');
    assert.equal(lensOn(others, 'fn greeting(', /./), undefined, 'greeting did not change: no lens on it');

    const n = client.statuses.length;
    const patched = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.patch');
    assert.equal(patched.ok, true, patched.message);
    const verdict = await client.waitFor('the patch verdict', () => client.statuses.slice(n).find((s) => s.patch === 'applied' || s.patch === 'failed'), 15 * 60_000);
    assert.equal(verdict.patch, 'applied', verdict.message);
    assert.match(verdict.message, /does not report back/);
    // the patch did arrive (the window shows it, same process)
    const seen = await client.waitFor('the new text in the window', () => readsIn(client.logs).find((r) => /Clicks \(lens\): \d+/.test(r.text)), 60_000);
    assert.equal(seen.pid, pid);

    const after = await lenses();
    const titles = after.map((l) => l.command.title);
    const sent = lensOn(after, 'fn Counter(', /^↗ sent · patch \d+ \(not confirmed: the app's client does not report back\)$/);
    assert.ok(sent, titles.join('\n'));
    assert.ok(!titles.some((t) => /live/.test(t)), `no lens says live without a confirmation:\n${titles.join('\n')}`);
    assert.ok(titles.some((t) => /^↗ \d+ patch(es)? sent, not confirmed \(the app's client does not report back\)/.test(t)), titles.join('\n'));
    const status = await client.executeCommand<{ patchesApplied: number; patchesUnconfirmed?: number }>('subsecond.status');
    assert.equal(status.patchesUnconfirmed, status.patchesApplied);

    // edited again: pending again, not "sent"
    mainText = mainText.replace('"{label} (lens): {count}"', '"{label} (lens 2): {count}"');
    fs.writeFileSync(mainRs, mainText);
    await client.changeAndSave(mainRs, mainText);
    await pollLens('the component pending again', 'fn Counter(', /^⚡ patch component/);
  });

  it('a global signal: code reading it patches, a new initializer keeps the running value, a line above it gives patched code a fresh one', async () => {
    const before = readsIn(client.logs).pop()!;
    assert.ok(globalIn(before.text) > 0, `the button raises the global: ${before.text}`);

    const changed = await saveAndPatch([['Signal::global(|| 0)', 'Signal::global(|| 5000)'], ['"Hello from Dioxus"', '"Hello global"']]);
    assert.equal(changed.patch, 'applied', changed.message);
    await client.waitForDiagnostics(mainRs, 'the initializer info', (d) => d.some((x) => x.code === 'global-initializer-changed'), 30_000);
    const info = diagnosticsOf('global-initializer-changed');
    assert.equal(info.length, 1, JSON.stringify(client.diagnostics.get(client.uri(mainRs))));
    assert.match(info[0].message, /keeps the signal's value and the new initializer never runs/);
    const kept = await client.waitFor('the new title', () => readsIn(client.logs).find((r) => r.title === 'Hello global'), 60_000);
    assert.equal(kept.pid, pid);
    assert.ok(globalIn(kept.text) >= globalIn(before.text) && globalIn(kept.text) < 5000, `the global kept its value: ${globalIn(before.text)} before, ${kept.text} after`);

    const moved = await saveAndPatch([['static GLOBAL_CLICKS', '// clicks, shared by every component\nstatic GLOBAL_CLICKS'], ['"Hello global"', '"Hello moved"']]);
    assert.equal(moved.patch, 'applied', moved.message);
    await client.waitForDiagnostics(mainRs, 'the moved warning', (d) => d.some((x) => x.code === 'global-signal-moved'), 30_000);
    const warning = diagnosticsOf('global-signal-moved');
    assert.equal(warning.length, 1, JSON.stringify(client.diagnostics.get(client.uri(mainRs))));
    assert.equal(warning[0].severity, 2);
    assert.match(warning[0].message, /patched code reading `GLOBAL_CLICKS` gets a fresh signal from its initializer/);
    assert.equal(diagnosticsOf('global-initializer-changed').length, 0, 'the move says it; no initializer info beside it');
    const fresh = await client.waitFor('the new title', () => readsIn(client.logs).find((r) => r.title === 'Hello moved'), 60_000);
    assert.equal(fresh.pid, pid);
    assert.ok(globalIn(fresh.text) >= 5000, `patched App reads a fresh signal from the new initializer (5000): ${fresh.text}`);
  });
});
