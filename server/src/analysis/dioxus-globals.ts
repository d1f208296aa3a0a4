// Dioxus global signals and memos: `static COUNT: GlobalSignal<i32> = Signal::global(|| 0);`,
// `static DOUBLED: GlobalMemo<i32> = Memo::global(|| COUNT() * 2);`.
//
// How Dioxus 0.7 keeps them (dioxus-signals 0.7.10, global/mod.rs): the static itself holds only
// the initializer (a fn pointer) and a key, the file, line and column of the `Signal::global`
// call (`#[track_caller]`). The signal is created lazily, on the first read, by running the
// initializer once, and is stored in the root scope's `GlobalLazyContext` map under that key;
// every later read of any copy of the static with that key gets the stored signal (downcast by
// type id). So:
// - a changed initializer never runs in the running app once the global was read: the stored
//   signal keeps its value (a patch does not clear the map). A memo (`Memo::global`) was created
//   with the initializer's fn pointer as its compute function, called directly (not through the
//   jump table): it keeps computing with the old code.
// - a changed value type is the static's type changing (`static-type-changed`, restart): a new
//   type misses the downcast and re-creates the signal, so patched and unpatched code each evict
//   the other's; a type of the same name with a new layout passes the downcast and is read with the
//   wrong layout.
import type { Draft } from './diff';
import type { ItemModel, Placed } from './model';

export type GlobalKind = 'signal' | 'memo';

/** `GlobalSignal<T>` / `GlobalMemo<T>` (any path), as the analysis renders a static's type. */
export function globalKindOf(type: string): GlobalKind | undefined {
  const m = /^(?:[A-Za-z_][A-Za-z0-9_]*\s*::\s*)*(GlobalSignal|GlobalMemo)\s*</.exec(type);
  if (!m) return undefined;
  return m[1] === 'GlobalMemo' ? 'memo' : 'signal';
}

/** What a type change of a global means, said after the generic static message. */
export function globalTypeReason(type: string): string | undefined {
  const kind = globalKindOf(type);
  if (!kind) return undefined;
  return `Dioxus keeps the ${kind === 'memo' ? 'memo' : 'signal'} it created on the first read by the position of its \`${kind === 'memo' ? 'Memo' : 'Signal'}::global\` call, ` +
    `so code reading it with the new type would meet the old value`;
}

/** A global signal or memo whose initializer changed (same type): what the running app does with it. */
export function globalInitializerChange(b: ItemModel, c: ItemModel, p: Placed): Draft | undefined {
  const kind = globalKindOf(c.value!.type);
  if (!kind || b.value!.initHash === c.value!.initHash) return undefined;
  const n = '`' + c.name + '`';
  const message = kind === 'signal'
    ? `initializer of global signal ${n} changed: once the app has read ${n}, it keeps the signal's value and the new initializer never runs ` +
      `(Dioxus runs a global's initializer once, on its first read, and keeps the signal for the app's lifetime); restart the app to start from the new value`
    : `computation of global memo ${n} changed: once the app has read ${n}, it keeps recomputing it with the old code ` +
      `(Dioxus creates a global memo once, on its first read, with the function it had then, and calls it directly, not through the patch); restart the app to apply the change`;
  return { code: 'global-initializer-changed', severity: 'info', item: c.name, p, message };
}
