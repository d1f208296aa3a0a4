// engine/detour-plan.ts — what the in-app agent needs to detour function entries after a patch:
// for every function of the jump table, its size in the executable (an entry shorter than the
// jump cannot be rewritten) and the size of its new version (so a later patch can rewrite that
// entry too); plus which names must keep their entry (see keepListFor).
// Only functions of the jump table whose code belongs to a crate compiled into the patch are
// listed: generic code of other crates instantiated in the patch (`core::ptr::drop_in_place<..>`,
// `Vec<T>::push`) is the same code as the running one and is left alone, as are names that are not
// Rust symbols (`#[no_mangle]`): their crate cannot be told. Legacy and v0 names alike
// (demangle.ts).
// Never imports the LSP library or the devserver.
import { ElfSymbol, SHN_UNDEF, SHN_ABS, STT_FUNC } from './elf';
import { FatSymbols } from './symbols';
import { demangleAll, sourcePathOf } from './demangle';
import type { JumpTable } from '../support/jump-table';
import type { CodeChange } from './code-change';

/** `[static address in the executable, size, static address in the patch, size, symbol name]`. */
export type DetourEntry = [number, number, number, number, string];

export interface DetourPlan {
  entries: DetourEntry[];
  /**
   * Names among `entries` whose code is the code their entries already lead to (judged in
   * code-change.ts): the agent records their new copies but rewrites nothing for them.
   */
  unchanged: string[];
  /** The other entries: the functions whose code changed (or may have), recorded once detoured. */
  changes: CodeChange[];
}

/** Crates a demangled path's code may belong to: the first segment, or both sides of `<A as B>`. */
export function owningCrates(demangled: string): string[] {
  const qualified = /^<([^ <>]+?)(?:<[^]*?)? as ([^ <>]+?)(?:<[^]*)?>::/.exec(demangled);
  if (qualified) return [qualified[1].split('::')[0], qualified[2].split('::')[0]].map((c) => c.replace(/^&(mut )?/, ''));
  if (demangled.startsWith('<')) {
    const inner = /^<&?(?:mut )?([A-Za-z_][A-Za-z0-9_]*)::/.exec(demangled);
    return inner ? [inner[1]] : [];
  }
  const head = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(demangled);
  return head ? [head[1]] : [];
}

export function buildDetourPlan(fat: FatSymbols, patchSymbols: ElfSymbol[], table: JumpTable, rebuiltCrates: string[]): DetourPlan {
  const rebuilt = new Set(rebuiltCrates);
  // new static address → (name, size) of the patch's function there
  const patchAt = new Map<number, { name: string; size: number }>();
  for (const s of patchSymbols) {
    if (s.type !== STT_FUNC || s.shndx === SHN_UNDEF || s.shndx === SHN_ABS || !s.name) continue;
    const had = patchAt.get(s.value);
    if (!had || s.size > had.size) patchAt.set(s.value, { name: s.name, size: s.size });
  }
  const candidates: Array<{ from: number; to: number; target: { name: string; size: number } }> = [];
  for (const [key, to] of Object.entries(table.map)) {
    const from = Number(key);
    // main is the table's anchor, and the running main never returns: never detoured.
    if (from === table.aslr_reference) continue;
    const target = patchAt.get(to);
    if (target) candidates.push({ from, to, target });
  }
  let readable: string[];
  try {
    readable = demangleAll(candidates.map((c) => c.target.name));
  } catch {
    return { entries: [], unchanged: [], changes: [] }; // unreadable names: the jump table alone, as without detours
  }
  const entries: DetourEntry[] = [];
  candidates.forEach(({ from, to, target }, i) => {
    const name = readable[i];
    if (name === target.name || !owningCrates(name).some((c) => rebuilt.has(c))) return;
    entries.push([from, fat.functionSizeAt(from) ?? 0, to, target.size, target.name]);
  });
  // Until judged, every entry counts as changed (rewriting an unchanged entry is harmless).
  return { entries, unchanged: [], changes: entries.map(([from, , , , name]) => ({ from, name, signature: undefined })) };
}

/** A function whose entry must keep its code, as the analysis names it. */
export interface KeptFunction {
  /** The function's own name (`draw`). */
  name: string;
  /** For a method: the last segment of its impl's self type (`Panel`). */
  selfBase?: string;
}

/** Closure and async-body segments at the end of a demangled path, legacy and v0. */
const CLOSURE = /::(\{\{closure\}\}(#\d+)?|\{closure#\d+\}|\{async_block#\d+\}|\{async_fn_body#\d+\})$/;

/**
 * The plan's symbol names whose entries must keep their code: functions whose signature changed
 * (old callers would pass the old arguments to the new code), and the closures inside them.
 * A symbol matches when its demangled path ends with `::<name>` and, for a method, names the
 * self type as a path segment. The module path is not compared, so a same-named function
 * elsewhere is kept as well: keeping too much only leaves an entry to the jump table. Names that
 * cannot be read keep their entries.
 */
export function keepListFor(plan: DetourPlan, fns: Iterable<KeptFunction>): string[] {
  const wanted = [...fns].filter((f) => f.name.length > 0);
  if (wanted.length === 0) return [];
  const syms = plan.entries.map((e) => e[4]);
  let readable: string[];
  try {
    readable = demangleAll(syms);
  } catch {
    return syms;
  }
  const out: string[] = [];
  syms.forEach((sym, i) => {
    let path = sourcePathOf(readable[i]);
    while (CLOSURE.test(path)) path = path.replace(CLOSURE, '');
    const hit = wanted.some((f) => {
      if (!path.endsWith(`::${f.name}`)) return false;
      if (f.selfBase === undefined) return true;
      const head = path.slice(0, path.length - f.name.length - 2);
      return new RegExp(`(^|[^A-Za-z0-9_])${f.selfBase.replace(/[^A-Za-z0-9_]/g, '')}([^A-Za-z0-9_]|$)`).test(head);
    });
    if (hit) out.push(sym);
  });
  return out;
}
