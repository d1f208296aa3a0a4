// engine/detour-plan.ts — what the in-app agent needs to detour function entries after a patch:
// for every function of the jump table, its size in the executable (an entry shorter than the
// jump cannot be rewritten) and the size of its new version (so a later patch can rewrite that
// entry too); plus which names must keep their entry (see keepListFor).
// Only functions of the jump table are listed: code of crates that were not rebuilt is never named.
// Never imports the LSP library or the devserver.
import { ElfSymbol, SHN_UNDEF, SHN_ABS, STT_FUNC } from './elf';
import { FatSymbols } from './symbols';
import { demangle } from './demangle';
import type { JumpTable } from './types';

/** `[static address in the executable, size, static address in the patch, size, symbol name]`. */
export type DetourEntry = [number, number, number, number, string];

export interface DetourPlan {
  entries: DetourEntry[];
}

export function buildDetourPlan(fat: FatSymbols, patchSymbols: ElfSymbol[], table: JumpTable): DetourPlan {
  // new static address → (name, size) of the patch's function there
  const patchAt = new Map<number, { name: string; size: number }>();
  for (const s of patchSymbols) {
    if (s.type !== STT_FUNC || s.shndx === SHN_UNDEF || s.shndx === SHN_ABS || !s.name) continue;
    const had = patchAt.get(s.value);
    if (!had || s.size > had.size) patchAt.set(s.value, { name: s.name, size: s.size });
  }
  const entries: DetourEntry[] = [];
  for (const [key, to] of Object.entries(table.map)) {
    const from = Number(key);
    // main is the table's anchor, and the running main never returns: never detoured.
    if (from === table.aslr_reference) continue;
    const target = patchAt.get(to);
    if (!target) continue;
    entries.push([from, fat.functionSizeAt(from) ?? 0, to, target.size, target.name]);
  }
  return { entries };
}

/** `a::b::Type::method` from a demangled path, with `<T as Trait>::` read as `T::` and generics dropped. */
function plainPath(demangled: string): string {
  let p = demangled.replace(/<([^<>]*?) as [^<>]*>/g, '$1');
  while (/<[^<>]*>/.test(p)) p = p.replace(/<[^<>]*>/g, '');
  return p.replace(/^[<]+|[>]+$/g, '');
}

/**
 * The plan's symbol names whose entries must keep their code: functions whose signature changed
 * (old callers would pass the old arguments to the new code). `items` are the analysis' item
 * names (`tick`, `App::draw`, `module::f`); a symbol matches when its demangled path is the item
 * or ends with `::<item>`. Closures inside such a function are kept as well.
 */
export function keepListFor(plan: DetourPlan, items: Iterable<string>): string[] {
  const wanted = [...new Set(items)].filter((i) => i.length > 0);
  if (wanted.length === 0) return [];
  const out: string[] = [];
  for (const [, , , , name] of plan.entries) {
    const path = plainPath(demangle(name)).replace(/::\{\{closure\}\}.*$/, '');
    if (wanted.some((item) => path === item || path.endsWith(`::${item}`))) out.push(name);
  }
  return out;
}
