// The rsx-templates module (rsx-templates/ compiled to wasm: dioxus-rsx-hotreload 0.7.10) says
// which edits of a Dioxus file are template updates and gives the templates as dx sends them.
import { strict as assert } from 'node:assert';
import { rsxTemplateUpdate } from '../../../server/src/support/rsx-templates';

const BUILT = `use dioxus::prelude::*;

#[component]
fn App() -> Element {
    let mut count = use_signal(|| 0);
    rsx! {
        div { id: "main",
            h1 { id: "title", class: "big", "Hello from Dioxus" }
            button { onclick: move |_| count += 1, "Add one" }
            p { "{greeting(count())}" }
        }
    }
}

fn greeting(count: i32) -> String {
    format!("Greetings after {count} clicks")
}
`;

function templatesOf(next: string) {
  const out = rsxTemplateUpdate(BUILT, next, 'src/main.rs');
  assert.equal(out.kind, 'templates', JSON.stringify(out));
  return out as Extract<typeof out, { kind: 'templates' }>;
}

describe('rsx-templates module: rsx! template updates without a build', () => {
  it('a static text edit gives the template, keyed where the rsx! call starts in the built text', () => {
    const out = templatesOf(BUILT.replace('Hello from Dioxus', 'Hello, templates'));
    assert.equal(out.changedCalls, 1);
    assert.equal(out.calls, 1);
    assert.equal(out.templates.length, 1);
    // rsx! starts on line 6, column 5 (1-based, as rustc's column!()).
    assert.deepEqual(out.templates[0].key, { file: 'src/main.rs', line: 6, column: 5, index: 0 });
    const json = JSON.stringify(out.templates[0].template);
    assert.match(json, /"text":"Hello, templates"/);
    assert.doesNotMatch(json, /Hello from Dioxus/);
  });

  it('the key stays where the built text had the call when lines are added above it', () => {
    const next = BUILT.replace('use dioxus::prelude::*;\n', 'use dioxus::prelude::*;\n// a note\n// another\n').replace('"big"', '"huge"');
    const out = templatesOf(next);
    assert.deepEqual(out.templates[0].key, { file: 'src/main.rs', line: 6, column: 5, index: 0 });
    assert.match(JSON.stringify(out.templates[0].template), /"name":"class","value":"huge"/);
  });

  it('an unchanged file is templates with no changed call', () => {
    const out = templatesOf(BUILT);
    assert.equal(out.changedCalls, 0);
  });

  it('code outside rsx! needs a build', () => {
    const out = rsxTemplateUpdate(BUILT, BUILT.replace('after {count} clicks', 'after {count} taps'), 'src/main.rs');
    assert.equal(out.kind, 'needsBuild');
    assert.match((out as { reason: string }).reason, /outside rsx!/);
  });

  it('an expression inside rsx! needs a build', () => {
    const out = rsxTemplateUpdate(BUILT, BUILT.replace('count += 1', 'count += 2'), 'src/main.rs');
    assert.equal(out.kind, 'needsBuild');
    assert.match((out as { reason: string }).reason, /dynamic part/);
  });

  it('a file that does not parse needs a build, with the reason', () => {
    const out = rsxTemplateUpdate(BUILT, BUILT.replace('fn greeting', 'fn greeting {'), 'src/main.rs');
    assert.equal(out.kind, 'needsBuild');
    assert.match((out as { reason: string }).reason, /does not parse/);
  });
});
