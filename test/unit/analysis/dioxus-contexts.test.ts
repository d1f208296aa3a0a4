// A layout change of a type used as a Dioxus context: the one layout finding names the components
// that provide and read it and points at those calls, across files (catalog.test.ts has the
// single-file stories).
import * as assert from 'node:assert/strict';
import { newAnalyzer } from './helpers';

const TYPES = '/ws/app/src/state.rs';
const UI = '/ws/app/src/ui.rs';
const THEME = 'pub struct Theme {\n    pub dark: bool,\n}\n';
const COMPONENTS = [
  'use dioxus::prelude::*;',
  'use crate::state::Theme;',
  '#[component]',
  'pub fn App() -> Element {',
  '    provide_context(Theme::new());',
  '    rsx! { Panel {} }',
  '}',
  'fn Panel() -> Element {',
  '    let t = consume_context::<Theme>();',
  '    rsx! { "{t.dark}" }',
  '}',
  'fn Unrelated() -> Element {',
  '    let n = use_context::<Counter>();',
  '    rsx! {}',
  '}',
].join('\n');

describe('analysis: Dioxus context types', () => {
  it('a context type changed in another file: its finding names the providing and reading components and points at their calls', async () => {
    const a = await newAnalyzer({ crateOf: () => 'app' });
    a.update(TYPES, THEME);
    a.update(UI, COMPONENTS);
    a.update(TYPES, THEME.replace('pub dark: bool,', 'pub dark: bool,\n    pub size: f32,'));
    const fs = a.findingsFor(TYPES);
    assert.equal(fs.length, 1, JSON.stringify(fs, null, 1));
    const f = fs[0];
    assert.equal(f.code, 'struct-layout-changed');
    assert.match(f.message, /`Theme` is a Dioxus context \(provided by `App`, read by `Panel`\)/);
    assert.doesNotMatch(f.message, /Unrelated/);
    const related = (f.related ?? []).filter((r) => r.file === UI);
    assert.deepEqual(related.map((r) => [r.range.start.line, r.range.start.character, r.message]), [
      [4, 4, '`App` provides the context `Theme` here'],
      [8, 12, '`Panel` reads the context `Theme` here'],
    ]);
    assert.deepEqual(a.findingsFor(UI), [], 'no second finding on the components');
    a.dispose();
  });

  it('the same change without context uses says nothing about contexts', async () => {
    const a = await newAnalyzer({ crateOf: () => 'app' });
    a.update(TYPES, THEME);
    a.update(UI, COMPONENTS.replace('provide_context(Theme::new());', '').replace('consume_context::<Theme>()', 'Theme::new()'));
    a.update(TYPES, THEME.replace('pub dark: bool,', 'pub dark: bool,\n    pub size: f32,'));
    const fs = a.findingsFor(TYPES);
    assert.equal(fs.length, 1);
    assert.doesNotMatch(fs[0].message, /context/);
    assert.equal(fs[0].related, undefined);
    a.dispose();
  });
});
