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
// - the key is a position: a global whose `Signal::global` call moved (a line added above it, a
//   `pub` added before it) has another key in the patch. The patch carries its own copy of the
//   static (it is immutable data, engine/fixups.ts), so patched code reading it creates a fresh
//   signal from the initializer while code that is not patched keeps the old one (seen with a
//   Dioxus 0.8.0-alpha.3 desktop app: a comment line added above `static COUNT` made the patched
//   component show the initializer's value; dioxus-signals' global code is the same in 0.7.10).
// - a changed value type is the static's type changing (`static-type-changed`, restart): a new
//   type misses the downcast and re-creates the signal, so patched and unpatched code each evict
//   the other's; a type of the same name with a new layout passes the downcast and is read with the
//   wrong layout.
import type { Draft } from './diff';
import type { ItemModel, Placed } from './model';
import type { Snapshot } from './snapshot';

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
  const what = kind === 'memo' ? 'memo' : 'signal';
  return `Dioxus keeps one ${what} per \`${kind === 'memo' ? 'Memo' : 'Signal'}::global\` call position and checks its type on each read, ` +
    `so patched and old code would each replace the other's ${what} with a fresh one (and a type whose layout changed under the same name would be read with the wrong layout)`;
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

/** Where `Signal::global(..)` is called: line and column (1-based) of the initializer's first token, as `#[track_caller]` records it. */
function keyPosition(text: string, p: Placed): { line: number; column: number } | undefined {
  const nameEnd = p.at + p.m.nameRel + p.m.nameLen;
  const eq = text.indexOf('=', nameEnd);
  if (eq < 0) return undefined;
  let i = eq + 1;
  while (i < text.length && /\s/.test(text[i])) i++;
  const init = text.slice(i, i + 200);
  // `Global::with_name(..)` / `with_location(..)`: keyed by what it is given, not by its position
  if (/^[^;]*\bwith_(name|location)\s*\(/.test(init)) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k >= 0 && k < i; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, column: i - lineStart + 1 };
}

/**
 * Global signals and memos whose `::global` call sits elsewhere than in the baseline (whether or
 * not the static itself changed): patched code reading them gets a fresh one. A warning: the edit
 * is patchable, the value is what is lost.
 */
export function globalMoves(base: Snapshot, cur: Snapshot, baseIdOf: Map<string, string>): Draft[] {
  const out: Draft[] = [];
  if (!/\bGlobal(Signal|Memo)\b/.test(cur.text)) return out;
  for (const [id, p] of cur.map) {
    const m = p.m;
    if (m.kind !== 'static' || m.unknown || !m.value) continue;
    const kind = globalKindOf(m.value.type);
    if (!kind) continue;
    const bp = base.map.get(baseIdOf.get(id) ?? id);
    // (a new type is a restart-class static-type-changed already)
    if (!bp || bp.m.unknown || bp.m.kind !== 'static' || !bp.m.value || bp.m.value.type !== m.value.type) continue;
    const was = keyPosition(base.text, bp);
    const now = keyPosition(cur.text, p);
    if (!was || !now || (was.line === now.line && was.column === now.column)) continue;
    const n = '`' + m.name + '`';
    const what = kind === 'memo' ? 'memo' : 'signal';
    out.push({
      code: 'global-signal-moved',
      severity: 'warning',
      item: m.name,
      p,
      message:
        `global ${what} ${n} moved (its \`${kind === 'memo' ? 'Memo' : 'Signal'}::global\` call from line ${was.line}, column ${was.column} to line ${now.line}, column ${now.column}): ` +
        `Dioxus finds a global's ${what} by that position, so patched code reading ${n} gets a fresh ${what} from its initializer, ` +
        `while code that is not patched keeps the running app's value; move it back (or restart the app) to keep one value`,
    });
  }
  return out;
}
