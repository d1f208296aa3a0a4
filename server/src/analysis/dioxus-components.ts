// Dioxus components (`#[component] fn Counter(label: String, count: i32) -> Element`): the
// parameters become the fields of a generated `CounterProps` struct. Dioxus keeps every mounted
// component's props and, when its parent re-renders, compares them with the new ones
// (`memoize`) through a downcast by type id — which a patch does not change. New parameters (or
// new types) would have the patched code read the old props with the new layout: restart-class,
// on the component, like a struct whose layout changed. Only the signature is compared: a body
// change is an ordinary patch.
//
// Hooks (`use_signal`, `use_memo`, any `use_*` call) are kept per mounted component in a list
// indexed by call order (dioxus-core 0.7 `ScopeContext::use_hook`). A patched body whose hook calls
// changed meets the old list: a hook gets the old value at its position when that value has the
// type it asks for (even one another hook stored), else — in a debug build with a patch applied —
// Dioxus puts a fresh value in the slot from the hook's initializer instead of panicking. That is
// the root component's fate; a child is replaced on its parent's next render, since Dioxus compares
// render functions by address (`HotFn::ptr_address`, through the jump table), which a patch of
// its crate moves: all its hooks start fresh (seen in test/e2e/dioxus-terminal.test.ts).
import type { Draft } from './diff';
import { T_IDENT, type Tokens } from './lexer';
import type { HookCall, ItemModel, Placed } from './model';
import { skipGroup } from './shapes';

/** A Dioxus component: `#[component]`, or a function returning `Element`. */
export function isComponentFn(component: boolean, sigDisplay: string): boolean {
  return component || /->\s*(dioxus::prelude::)?Element\s*$/.test(sigDisplay);
}

/** The `use_*` functions a body calls, in source order (`use_signal(…)`, `use_memo::<T>(…)`, `dioxus::hooks::use_effect(…)`). */
export function hookCallsIn(t: Tokens, from: number, to: number): HookCall[] {
  const out: HookCall[] = [];
  for (let k = from; k < to; k++) {
    if (t.kind[k] !== T_IDENT) continue;
    const name = t.str(k);
    if (!name.startsWith('use_') || name.length < 5) continue;
    if (k > from && (t.is(k - 1, '.') || t.is(k - 1, 'fn'))) continue; // a method, or a local hook's definition
    let open = k + 1;
    if (t.is(open, '::') && t.is(open + 1, '<')) while (open < to && !t.is(open, '(')) open++;
    if (open >= to || !t.is(open, '(')) continue;
    let start = k;
    while (start > from && !t.is(start - 1, ';') && !t.is(start - 1, '{') && !t.is(start - 1, '}')) start--;
    const end = Math.min(skipGroup(t, open, to), to) - 1;
    const parts: string[] = [];
    for (let i = start; i <= end; i++) parts.push(t.str(i));
    out.push({ name, key: parts.join(' ') });
  }
  return out;
}

/**
 * A component whose hook calls changed (same props): an info saying what the mounted instances'
 * hook state becomes, since Dioxus matches hooks by position, not by name.
 */
export function componentHooksChange(b: ItemModel, c: ItemModel, p: Placed): Draft | undefined {
  const before = b.fn?.hooks;
  const now = c.fn?.hooks;
  if (!before || !now || b.fn!.sigKey !== c.fn!.sigKey) return undefined;
  const names = (h: HookCall[]) => h.map((x) => x.name).join(',');
  if (names(before) === names(now)) return undefined; // same hooks (an initializer or binding edited)
  // the first position whose call differs (binding and arguments too: a new `let shadow =
  // use_signal(|| 0)` put before `let count = use_signal(|| 0)` takes the count's slot)
  let first = 0;
  while (first < before.length && first < now.length && before[first].key === now[first].key) first++;
  const list = (h: HookCall[]) => (h.length ? h.map((x) => `\`${x.name}\``).join(', ') : 'none');
  const from = first < now.length ? `from its hook #${first + 1} (\`${now[first].name}\`) on` : 'after the removed ones';
  return {
    code: 'component-hooks-changed',
    severity: 'info',
    item: c.name,
    p,
    message:
      `the hooks of component \`${c.name}\` changed (${list(before)} → ${list(now)}): Dioxus keeps a mounted component's hook values by call order, ` +
      `so where \`${c.name}\` is the root (the component launched) ${from} a hook gets the old value at its position when its type matches (possibly another hook's) ` +
      `and starts from its initializer when it does not; as a child component it is re-created by the patch, all its hooks fresh; ` +
      `restart the app for all of its hooks to start fresh`,
  };
}

export function componentPropsChange(b: ItemModel, c: ItemModel, p: Placed): Draft | undefined {
  if (!b.fn?.component || !c.fn?.component || b.fn.sigKey === c.fn.sigKey) return undefined;
  return {
    code: 'component-props-changed',
    severity: 'restart',
    item: c.name,
    p,
    message:
      `the props of component \`${c.name}\` changed (\`${b.fn.sigDisplay}\` → \`${c.fn.sigDisplay}\`): requires restart, ` +
      `Dioxus keeps each mounted \`${c.name}\`'s props with the old layout and compares them with the new ones`,
  };
}
