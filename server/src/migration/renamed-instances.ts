// Which renamed function of the patch replaces which of the executable, when the app's symbols
// are legacy-mangled (`_ZN…17h<hash>E`, stable Rust's default) and the patch migrates HotState
// values.
//
// A legacy name is the function's path plus a hash of its instance: the item, its type and
// signature, its generic arguments. The hash of a type covers its definition's fields and
// variants (their names and ids, not their types), so adding, removing or renaming a field of
// `State` renames every function whose signature or generic arguments mention `State`: `tick(&mut
// State)`, the closure in `main` that calls it, `HotState::<State>::call` and the closure that
// `subsecond::call` looks up in the jump table, the agent's codec `restore_erased::<State>`, the
// derived serde impls, `drop_in_place::<State>` (measured on the hot-state fixture: 58 of the
// executable's functions renamed by one added field). Matched by exact name, as the engine's jump
// table is, none of them is replaced, and the migration cannot run.
//
// The path alone does not say which instance a name is (every `restore_erased::<T>` reads
// `subsecond_agent::hot_state::restore_erased`), but rustc's DWARF does: the subprogram whose
// linkage name is the symbol is named with its generic arguments and closure number
// (`restore_erased<app::State>`, `{closure#1}<app::State>`), and its parameters and result have
// type names (`tick(&mut app::State, &mut u64)`). Path + DWARF name + signature identify an
// instance as a v0 name would, and more strictly (a changed parameter type is another key). A
// pair is matched only when:
// - the executable's name is not in the patch and the patch's is not in the executable (renamed);
// - path, DWARF name and signature are equal, and exactly one function on each side has them (one
//   address each): two candidates are no match;
// - the instance is about a migrated type: the path, the DWARF name or the signature mentions it
//   by its full path (`tick(&mut app::State)`, `restore_erased<app::State>`).
// A renamed function of the executable that mentions a migrated type and has no such match
// refuses the migration, with its name and why. One whose path has no renamed counterpart in the
// patch, a function no longer instantiated, is left out of the table as any removed function is
// (the agent still refuses a codec the table does not map). Pure: the symbol tables' names and the DWARF
// names are read by the caller (session/state-migration.ts).

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A function defined in the executable or the patch: mangled name (`.llvm.` suffix removed), static addresses. */
export interface DefinedFunction {
  name: string;
  addresses: ReadonlySet<number>;
}

export interface RenamedPair {
  /** The executable's name and the patch's. */
  from: string;
  to: string;
  fromAddress: number;
  toAddress: number;
  /** The demangled path and the DWARF name they share. */
  path: string;
  instance: string;
}

export interface RenamedMatch {
  pairs: RenamedPair[];
  /** Renamed functions about a migrated type that nothing in the patch can be proven to replace. */
  unmatched: Array<{ path: string; instance?: string; reason: string }>;
}

export interface RenamedInput {
  fat: readonly DefinedFunction[];
  patch: readonly DefinedFunction[];
  /** The migrated types' full paths (`hot_state_app::State`). */
  migrating: readonly string[];
  /** Demangled paths without hash, in order (engine/demangle.ts demangleAll). */
  demangle: (names: readonly string[]) => string[];
  /** DWARF names of the given symbols, per side (support/debuginfo.ts instanceNames). */
  fatInstances: (names: readonly string[]) => Map<string, string>;
  patchInstances: (names: readonly string[]) => Map<string, string>;
}

const LEGACY = /^_ZN.*17h[0-9a-f]{16}E$/;

/** Matches the patch's renamed legacy functions to the executable's (see above). */
export function matchRenamedInstances(input: RenamedInput): RenamedMatch {
  const inPatch = new Set(input.patch.map((f) => f.name));
  const inFat = new Set(input.fat.map((f) => f.name));
  const fatRenamed = input.fat.filter((f) => LEGACY.test(f.name) && !inPatch.has(f.name));
  const patchRenamed = input.patch.filter((f) => LEGACY.test(f.name) && !inFat.has(f.name));
  const pathsOf = (list: readonly DefinedFunction[]) => {
    const paths = input.demangle(list.map((f) => f.name));
    return new Map(list.map((f, i) => [f.name, paths[i]]));
  };
  const fatPath = pathsOf(fatRenamed);
  const patchPath = pathsOf(patchRenamed);
  const shared = new Set([...patchPath.values()]);
  const fatCands = fatRenamed.filter((f) => shared.has(fatPath.get(f.name)!));
  const fatShared = new Set(fatCands.map((f) => fatPath.get(f.name)!));
  const patchCands = patchRenamed.filter((f) => fatShared.has(patchPath.get(f.name)!));
  const fatNames = input.fatInstances(fatCands.map((f) => f.name));
  const patchNames = input.patchInstances(patchCands.map((f) => f.name));

  const mentions = input.migrating.map((t) => new RegExp(`(?<![A-Za-z0-9_:])${escapeRegExp(t)}(?![A-Za-z0-9_])`));
  const aboutMigrated = (path: string, instance: string | undefined) => mentions.some((re) => re.test(path) || (instance !== undefined && re.test(instance)));
  const key = (path: string, instance: string) => `${path}\u0000${instance}`;
  const byKey = (list: DefinedFunction[], paths: Map<string, string>, names: Map<string, string>) => {
    const m = new Map<string, DefinedFunction[]>();
    for (const f of list) {
      const instance = names.get(f.name);
      if (instance === undefined) continue;
      const k = key(paths.get(f.name)!, instance);
      m.set(k, [...(m.get(k) ?? []), f]);
    }
    return m;
  };
  const fatByKey = byKey(fatCands, fatPath, fatNames);
  const patchByKey = byKey(patchCands, patchPath, patchNames);

  const out: RenamedMatch = { pairs: [], unmatched: [] };
  // Every renamed function of the executable that mentions a migrated type must be matched; any
  // other is left out, as renamed functions always are.
  for (const f of fatRenamed) {
    const path = fatPath.get(f.name)!;
    const instance = fatNames.get(f.name);
    const about = aboutMigrated(path, instance);
    if (!about) continue;
    const fail = (reason: string) => out.unmatched.push({ path, instance, reason });
    // No function of that path in the patch: no longer instantiated (`drop_in_place::<State>` once
    // no field needs dropping). Nothing new calls it; it is left out, as a removed function is.
    if (!shared.has(path)) continue;
    if (instance === undefined) {
      fail("the executable's debug info names no instance for it, so its replacement cannot be told apart");
      continue;
    }
    const k = key(path, instance);
    const olds = fatByKey.get(k) ?? [];
    const news = patchByKey.get(k) ?? [];
    if (olds.length !== 1 || news.length !== 1) {
      fail(news.length === 0 ? "the patch's debug info names no function of that instance" : `${olds.length} functions of the executable and ${news.length} of the patch are that instance`);
      continue;
    }
    if (f.addresses.size !== 1 || news[0].addresses.size !== 1) {
      fail('it has more than one address');
      continue;
    }
    out.pairs.push({
      from: f.name,
      to: news[0].name,
      fromAddress: [...f.addresses][0],
      toAddress: [...news[0].addresses][0],
      path,
      instance,
    });
  }
  return out;
}

/** `HotState<T>::call::{{closure}}` (`{closure#0}<app::State, …>`): 3 unmatched shown, then how many more. */
export function describeUnmatched(unmatched: RenamedMatch['unmatched']): string {
  const shown = unmatched.slice(0, 3).map((u) => `\`${u.path}\`${u.instance ? ` (\`${u.instance}\`)` : ''}: ${u.reason}`);
  return shown.join('; ') + (unmatched.length > 3 ? `; and ${unmatched.length - 3} more` : '');
}
