// engine/jump-table.ts — builds subsecond's JumpTable: for every function defined both in the
// patch and in the fat executable, old static address → new static address.
//
// Both sides are link-time (static) addresses; the app adds its own load biases (subsecond's
// apply_patch: exe bias = dlsym(main) − aslr_reference, patch bias = dlsym(lib, main) −
// new_base_address). Names are compared with `.llvm.<hash>` suffixes removed (they change between
// builds); names with more than one address on either side are skipped (we cannot tell which
// copy is which), and so are the stub's trampolines (they are the old code, not new code).
// Never imports the LSP library or the devserver.
import { ElfSymbol, SHN_UNDEF, SHN_ABS, STT_FUNC } from './elf';
import { FatSymbols, stripLlvmSuffix } from './symbols';
import type { JumpTable } from './types';

export class JumpTableError extends Error {}

export interface JumpTableBuild {
  table: JumpTable;
  entries: number;
  /** Names defined more than once on one side. */
  ambiguous: number;
  /** Function names (`.llvm.` suffix removed) of the patch: all it defines, and those the table maps. */
  names: { defined: string[]; mapped: string[] };
}

export function buildJumpTable(fat: FatSymbols, patchSymbols: ElfSymbol[], lib: string, stubFunctions: Iterable<string>): JumpTableBuild {
  const stubs = new Set<string>();
  for (const s of stubFunctions) stubs.add(stripLlvmSuffix(s));
  const patchFuncs = new Map<string, Set<number>>();
  let patchMain: number | undefined;
  for (const s of patchSymbols) {
    if (s.type !== STT_FUNC || s.shndx === SHN_UNDEF || s.shndx === SHN_ABS || !s.name) continue;
    if (s.name === 'main') patchMain = s.value;
    const base = stripLlvmSuffix(s.name);
    let set = patchFuncs.get(base);
    if (!set) patchFuncs.set(base, (set = new Set()));
    set.add(s.value);
  }
  if (patchMain === undefined) throw new JumpTableError(`the patch ${lib} has no \`main\` symbol; the app cannot locate it`);

  const map: Record<string, number> = {};
  let entries = 0;
  let ambiguous = 0;
  const mapped: string[] = [];
  for (const [base, addrs] of patchFuncs) {
    if (stubs.has(base)) continue;
    const old = fat.functionAddresses(base);
    if (!old) continue;
    if (old.size !== 1 || addrs.size !== 1) {
      ambiguous++;
      continue;
    }
    const from = old.values().next().value as number;
    const to = addrs.values().next().value as number;
    const key = String(from);
    if (!(key in map)) entries++;
    map[key] = to;
    mapped.push(base);
  }
  // main is the anchor of the slide computation on both sides: always present.
  if (!(String(fat.mainAddress) in map)) entries++;
  map[String(fat.mainAddress)] = patchMain;
  return {
    table: { lib, map, aslr_reference: fat.mainAddress, new_base_address: patchMain, ifunc_count: 0 },
    entries,
    ambiguous,
    names: { defined: [...patchFuncs.keys()].filter((n) => !stubs.has(n)), mapped },
  };
}
