// Closures keep their identity: rustc names a function's closures by their order (v0
// `build_world::{closure#1}`, legacy `{{closure}}` with a hash of the same numbering), so after a
// closure is inserted before another, removed or moved, a name in the jump table or the detour
// plan can join a running closure to another closure's code, with other captures. Where the
// analysis says a function's closures changed that way (`closuresReshaped`), no match is certain:
// every entry of that function's closures (their bodies, the trait shims and drop glue named
// after them) is left out, and closures made before the patch keep their old code, said in a note.
import { matchDemangled } from '../analysis';
import { demangleNaming, sourcePathOf } from '../engine/demangle';
import type { DetourPlan } from '../engine';
import type { FatSymbols } from '../engine/symbols';
import type { JumpTable } from '../support/jump-table';
import type { ChangedFunctionRef } from './patch-proof';

export interface LeftClosures {
  /** The functions whose closures are left alone, as the status names them (`` `build_world` ``). */
  functions: string[];
  /** Static addresses in the executable whose entries must not be patched. */
  addresses: Set<number>;
}

/** Segments that start a closure or async body after a function's name. */
const CLOSURE_SEGMENT = /^::\{(\{closure\}\}|closure#|async_block#|async_fn_body#)/;

/**
 * The executable's functions that are, or are named after, a closure of a function whose
 * closures were reshaped. A name mentioning such a closure anywhere counts (`<app::f::{closure#0}
 * as FnOnce<()>>::call_once`, `drop_in_place::<app::f::{closure#0}>`). Matching by name only
 * (the module is checked for the closure body itself) can leave out a same-named function's
 * closures elsewhere in the crate too: leaving out more only keeps old code running.
 */
export function closuresToLeave(changed: ChangedFunctionRef[], fat: FatSymbols): LeftClosures {
  const reshaped = changed.filter((c) => c.fn.closuresReshaped && !c.fn.noMangle);
  const addresses = new Set<number>();
  if (reshaped.length === 0) return { functions: [], addresses };
  const names = [...new Set(reshaped.map((c) => c.fn.name))];
  const hits = new Set<ChangedFunctionRef>();
  let named: Array<[string, string]>;
  try {
    named = demangleNaming(fat.functionNames(), names);
  } catch {
    return { functions: [], addresses }; // unreadable names: the proof says the patch is not verified
  }
  for (const [mangled, readable] of named) {
    const path = sourcePathOf(readable);
    const owner = reshaped.find((c) => {
      if (c.modulePrefixes.some((p) => matchDemangled(c.fn, readable, p) === 'closure')) return true;
      // elsewhere in the name: `…::<name>::{closure…` of one of the function's crates
      if (!c.crates.some((crate) => path.includes(`${crate}::`))) return false;
      for (let at = path.indexOf(`::${c.fn.name}::{`); at >= 0; at = path.indexOf(`::${c.fn.name}::{`, at + 1)) {
        if (CLOSURE_SEGMENT.test(path.slice(at + c.fn.name.length + 2))) return true;
      }
      return false;
    });
    if (!owner) continue;
    hits.add(owner);
    for (const a of fat.functionAddresses(mangled) ?? []) addresses.add(a);
  }
  return { functions: reshaped.filter((c) => hits.has(c)).map((c) => `\`${c.fn.item}\``), addresses };
}

/**
 * The jump table and the detour plan without those addresses (copies; the build's result stays).
 * The plan's `changes` lose them too: what was never sent must not be recorded as detoured, or a
 * later patch would take the old code those entries still run for the new one.
 */
export function withoutAddresses(table: JumpTable, plan: DetourPlan, addresses: Set<number>): { table: JumpTable; plan: DetourPlan } {
  if (addresses.size === 0) return { table, plan };
  const map: Record<string, number> = {};
  for (const [from, to] of Object.entries(table.map)) if (!addresses.has(Number(from))) map[from] = to;
  const entries = plan.entries.filter((e) => !addresses.has(e[0]));
  const names = new Set(entries.map((e) => e[4]));
  return {
    table: { ...table, map },
    plan: { entries, unchanged: plan.unchanged.filter((n) => names.has(n)), changes: plan.changes.filter((c) => !addresses.has(c.from)) },
  };
}
