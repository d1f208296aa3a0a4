// rsx! template updates across saves and patches (session/rsx-hot-reload.ts), with the real
// rsx-templates module and a devserver stand-in that records what would go to the window: the
// baseline is the text the running code was compiled from, only templates not sent before go
// out, an edit undone is sent back, and a patch makes its text the baseline and forgets what was
// sent (the app drops those templates).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RsxHotReload, RsxPlan } from '../../../server/src/session/rsx-hot-reload';
import type { RunningApp } from '../../../server/src/session/app-lifecycle';

const MAIN = `use dioxus::prelude::*;

fn main() {
    dioxus::launch(App);
}

#[component]
fn App() -> Element {
    let mut count = use_signal(|| 0);
    rsx! {
        h1 { id: "title", "Hello" }
        button { onclick: move |_| count += 1, "Add one" }
        Counter { count: count() }
    }
}

#[component]
fn Counter(count: i32) -> Element {
    rsx! { p { "Clicks: {count}" } }
}
`;

describe('rsx! template updates across saves and patches', () => {
  let dir: string;
  let mainRs: string;
  let disk: string;
  let sent: unknown[][];
  let statuses: Array<{ patch?: string; message: string }>;
  let rsx: RsxHotReload;
  let app: RunningApp;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-rsx-'));
    fs.writeFileSync(path.join(dir, 'Cargo.lock'), 'version = 4\n\n[[package]]\nname = "dioxus"\nversion = "0.7.10"\n\n[[package]]\nname = "dioxus-core"\nversion = "0.7.10"\n');
    fs.mkdirSync(path.join(dir, 'src'));
    mainRs = path.join(dir, 'src', 'main.rs');
    disk = MAIN;
    sent = [];
    statuses = [];
    app = { pid: 4242, bin: { binName: 'demo' }, builtTexts: new Map([[mainRs, MAIN]]) } as unknown as RunningApp;
    rsx = new RsxHotReload({
      lifecycle: { devServer: { sendTemplateReload: (_pid: number, t: unknown[]) => (sent.push(t), true) } } as never,
      files: { currentText: () => disk, overlays: () => new Map(), list: () => [mainRs] } as never,
      status: { set: (_a: unknown, patch: string | undefined, message: string) => statuses.push({ patch, message }) } as never,
      observer: { log: () => undefined, notify: () => undefined } as never,
      workspace: () => ({ workspaceRoot: dir }) as never,
    });
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A save of `text`: the plan, applied when it is not a build. */
  const save = (text: string): RsxPlan => {
    disk = text;
    const plan = rsx.plan(app, text === MAIN ? [] : [mainRs], () => disk);
    if (plan.kind !== 'build') rsx.apply(app, plan, Date.now());
    return plan;
  };
  const texts = (batch: unknown[]) => JSON.stringify(batch);

  it('sends a text edit as templates keyed in the built text, once; an undo is sent back', () => {
    const edited = MAIN.replace('"Hello"', '"Hello, world"');
    assert.equal(save(edited).kind, 'templates');
    assert.equal(sent.length, 1);
    assert.match(texts(sent[0]), /Hello, world/);
    assert.match(texts(sent[0]), /"file":"src\/main\.rs","line":10,"column":5/);
    assert.match(statuses.at(-1)!.message, /^🔥 rsx! updated in main\.rs in \d+ ms: \d+ templates? sent \(no build; the window applies it, dioxus does not report back\)$/);
    assert.notEqual(statuses.at(-1)!.patch, 'applied');

    // The same text again: nothing new to send, no build.
    assert.equal(save(edited).kind, 'sent-already');
    assert.equal(sent.length, 1);
    assert.equal(rsx.covers(app, [mainRs]), true, 'the scheduler sees nothing left to patch');

    // Back to the built text: its template differs from the one sent, so it goes out.
    assert.equal(save(MAIN).kind, 'templates');
    assert.equal(sent.length, 2);
    assert.match(texts(sent[1]), /"text":"Hello"/);
    assert.doesNotMatch(texts(sent[1]), /Hello, world/);
  });

  it('keys stay where the compiled text had the rsx! call when lines move, until a patch', () => {
    const moved = MAIN.replace('use dioxus::prelude::*;\n', 'use dioxus::prelude::*;\n// one\n// two\n').replace('"Clicks: {count}"', '"Clicks so far: {count}"');
    assert.equal(save(moved).kind, 'templates');
    // Counter's rsx! starts on line 19 of the compiled text (21 in the saved one).
    const keys = (sent.at(-1) as Array<{ key: { line: number } }>).map((t) => t.key.line);
    assert.ok(keys.includes(19) && !keys.includes(21), `keys: ${keys.join(', ')}`);
    // A patch compiles the saved text: its positions are the keys now, and nothing counts as sent.
    rsx.patched(app, () => disk);
    const again = moved.replace('"Clicks so far: {count}"', '"Clicks now: {count}"');
    assert.equal(save(again).kind, 'templates');
    const after = sent.at(-1) as Array<{ key: { line: number }; template: unknown }>;
    assert.ok(after.some((t) => t.key.line === 21 && /Clicks now/.test(JSON.stringify(t.template))), texts(after));
  });

  it('code outside rsx! or a dynamic part needs a build, and says why', () => {
    const code = save(MAIN.replace('use_signal(|| 0)', 'use_signal(|| 5)'));
    assert.equal(code.kind, 'build');
    assert.match((code as { reason: string }).reason, /main\.rs: code outside rsx! changed/);
    const handler = save(MAIN.replace('count += 1', 'count += 2'));
    assert.equal(handler.kind, 'build');
    assert.match((handler as { reason: string }).reason, /dynamic part/);
    assert.equal(sent.length, 0, 'nothing was sent');
  });

  it('an app that is not Dioxus 0.7 gets no template updates', () => {
    fs.writeFileSync(path.join(dir, 'Cargo.lock'), 'version = 4\n\n[[package]]\nname = "dioxus-core"\nversion = "0.6.3"\n');
    const plan = save(MAIN.replace('"Hello"', '"Hi"'));
    assert.equal(plan.kind, 'build');
    assert.match((plan as { reason: string }).reason, /dioxus-core 0\.6\.3/);
  });
});
