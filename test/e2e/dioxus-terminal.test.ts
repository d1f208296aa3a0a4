// The Dioxus desktop fixture (clients/dioxus-desktop) in terminal mode: `subsecond-lsp run` builds
// and starts it in a WebKitGTK window on a private Xvfb display, sees a save made outside any
// editor, says "🔥 rsx! updated" for an rsx! text edit (templates, no build) and "⚡ patched" for
// code, and the window shows each (read back from the page, see support/dioxus-window.ts). Then a hook put before App's count: the info says hooks are matched
// by call order, and the window shows exactly that (the new hook takes the count's value, the
// count starts again from its initializer), and a child component re-created by a patch (its
// hooks start fresh). Same fixture copy (and target dir) as
// dioxus-desktop.test.ts: no second cold build. Skipped (with the reason) only where Xvfb or
// WebKitGTK is missing; .ci/run installs both.
import { strict as assert } from 'node:assert';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERVER_BIN } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { isAlive, pollUntil } from '../support/processes';
import { Xvfb, startXvfbOrSkip } from '../support/xvfb';
import { readsIn, WindowRead } from '../support/dioxus-window';

describe('terminal mode: a Dioxus desktop app is hot-patched in its real window', function () {
  this.timeout(40 * 60_000);
  let xvfb: Xvfb | undefined;
  let child: ChildProcess | undefined;
  let out = '';

  const waitFor = <T>(what: string, check: () => T | undefined | false, timeoutMs = 180_000): Promise<T> =>
    pollUntil(what, check, timeoutMs, () => `output:\n${out.slice(-4000)}`);
  /** The window reads printed after `from` characters of output (the app's stdout is `app │ …`). */
  const readsAfter = (from: number): WindowRead[] =>
    readsIn(out.slice(from).split('\n').map((l) => l.replace(/^.*?app │ /, '[app stdout] ')));

  before(async function () {
    xvfb = await startXvfbOrSkip(this);
  });

  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await xvfb?.stop();
  });

  it('builds, runs, patches saves in the window, tells what a new hook does to state, child components start fresh; Ctrl-C stops it', async () => {
    const fixture = prepareClientFixture('dioxus-desktop', 'subsecond-lsp-e2e-dioxus');
    const mainRs = path.join(fixture.clientDir, 'src', 'main.rs');
    let mainText = fs.readFileSync(mainRs, 'utf8');
    child = spawn(process.execPath, [SERVER_BIN, 'run', '--manifest-path', path.join(fixture.clientDir, 'Cargo.toml')], {
      cwd: fixture.clientDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // WebKit's sandbox needs user namespaces a CI container may lack; compositing needs a GPU.
      env: { ...process.env, DISPLAY: xvfb!.display, WEBKIT_DISABLE_COMPOSITING_MODE: '1', WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: '1' },
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const first = await waitFor('the window to be read', () => readsAfter(0).find((r) => r.title === 'Hello from Dioxus'), 30 * 60_000);
    const pid = first.pid;
    await waitFor('the watcher', () => /watching for saves/.test(out));
    assert.match(out, /connected through a dx-compatible client/);

    /** Saves main.rs with these replacements, in one write; returns where the output stood. */
    const save = (...edits: Array<[string, string]>) => {
      for (const [from, to] of edits) {
        assert.ok(mainText.includes(from), `the fixture holds ${from}`);
        mainText = mainText.replace(from, to);
      }
      const mark = out.length;
      fs.writeFileSync(mainRs, mainText);
      return mark;
    };

    // static text in rsx!: a template update with no build (as dx serve sends it), claimed as
    // sent, then seen in the same window
    let mark = save(['"Hello from Dioxus"', '"Hello from the terminal"']);
    await waitFor('"🔥 rsx! updated in main.rs"', () => /🔥 rsx! updated in main\.rs in \d+ ms: \d+ templates? sent \(no build/.test(out.slice(mark)), 15 * 60_000);
    assert.doesNotMatch(out.slice(mark), /⚡ patched|building patch/, 'no build for an rsx! text edit');
    const titled = await waitFor('the new title in the window', () => readsAfter(mark).find((r) => r.title === 'Hello from the terminal'), 60_000);
    assert.equal(titled.pid, pid, 'the same process shows it');

    // A hook put before App's count: Dioxus matches hooks by call order. The new hook (same type)
    // takes the count's signal, shown in the title; the count itself gets a new slot and starts
    // again from its initializer (0), and the probe's clicks raise it from there.
    const before = await waitFor('a few clicks', () => readsAfter(mark).find((r) => r.count >= 3), 60_000);
    mark = save(
      ['    let mut count = use_signal(|| 0);\n', '    let shadow = use_signal(|| 0);\n    let mut count = use_signal(|| 0);\n'],
      ['"Hello from the terminal"', '"Shadow {shadow}"'],
    );
    await waitFor('the hooks info', () => /info\[component-hooks-changed\] src\/main\.rs:\d+:\d+: the hooks of component `App` changed \(`use_signal` → `use_signal`, `use_signal`\): .*from its hook #1 \(`use_signal`\) on/.test(out.slice(mark)));
    await waitFor('"⚡ patched main.rs"', () => /⚡ patched main\.rs/.test(out.slice(mark)), 15 * 60_000);
    const shadowed = await waitFor('the new hook shown in the title', () => readsAfter(mark).find((r) => /^Shadow \d+$/.test(r.title)), 60_000);
    assert.equal(shadowed.pid, pid);
    const shadowValue = +/\d+$/.exec(shadowed.title)![0];
    assert.ok(shadowValue >= before.count, `the new first hook took the count's old value: shadow ${shadowValue}, count was ${before.count}`);
    assert.ok(shadowed.count < shadowValue, `the count started again from 0: count ${shadowed.count}, its old value ${shadowValue}`);

    // A child component is another story: Dioxus tells components apart by their render
    // function's address, which every patch of the crate moves, so Counter is replaced on App's
    // next render and its hooks start fresh (what the finding and the README say). Counter
    // counts its renders in a hook; a patch of a helper function elsewhere resets it.
    mark = save(
      ['fn Counter(label: String, count: i32) -> Element {\n', 'fn Counter(label: String, count: i32) -> Element {\n    let renders = use_hook(|| std::rc::Rc::new(std::cell::Cell::new(0u32)));\n    renders.set(renders.get() + 1);\n'],
      ['p { id: "count", "{label}: {count}" }', 'p { id: "renders", "renders={renders.get()}" }\n        p { id: "count", "{label}: {count}" }'],
    );
    await waitFor('"⚡ patched main.rs"', () => /⚡ patched main\.rs/.test(out.slice(mark)), 15 * 60_000);
    const rendersOf = (r: WindowRead) => +(/renders=(\d+)/.exec(r.text)?.[1] ?? -1);
    await waitFor('Counter to render a few times', () => readsAfter(mark).find((r) => rendersOf(r) >= 6), 60_000);
    const rendered = rendersOf(readsAfter(mark).pop()!);
    mark = save(['format!("Greetings after {count} clicks")', 'format!("Greets {count}")']);
    await waitFor('"⚡ patched main.rs"', () => /⚡ patched main\.rs/.test(out.slice(mark)), 15 * 60_000);
    const greeted = await waitFor('the new greeting', () => readsAfter(mark).find((r) => /Greets \d+/.test(r.text)), 60_000);
    assert.equal(greeted.pid, pid);
    assert.ok(rendersOf(greeted) >= 1 && rendersOf(greeted) < rendered, `Counter was re-created: ${rendersOf(greeted)} renders after the patch, ${rendered} before`);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    await waitFor('the app to be stopped', () => !isAlive(pid), 10_000);
  });
});
