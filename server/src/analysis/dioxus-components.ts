// Dioxus components (`#[component] fn Counter(label: String, count: i32) -> Element`): the
// parameters become the fields of a generated `CounterProps` struct. Dioxus keeps every mounted
// component's props and, when its parent re-renders, compares them with the new ones
// (`memoize`) through a downcast by type id — which a patch does not change. New parameters (or
// new types) would have the patched code read the old props with the new layout: restart-class,
// on the component, like a struct whose layout changed. Only the signature is compared: a body
// change is an ordinary patch.
import type { Draft } from './diff';
import type { ItemModel, Placed } from './model';

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
