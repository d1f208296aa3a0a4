// State migration in the session: a layout change of types the app holds only in subsecond-agent
// `HotState` handles is carried by the patch, which tells the agent to migrate their values
// (`MigrateState`), instead of requiring a restart. The decisions are migration/'s; this wires
// them to the running app (the types its agent reported), the layout gate's verdict, the
// findings shown, and the agent's answer.
//
// Migration is only ever attempted when the layout gate verified the patch's layouts and every
// difference is a registered HotState type nothing else holds (or a temporary of its own serde
// code). Everything else stays restart-class, saying what holds the type.
//
// With legacy symbol names (stable Rust's default) the layout change renames the functions that
// mention the migrated types; the patch carries them only when each one's replacement is proven
// from the DWARF of both sides (migration/renamed-instances.ts), else the migration is refused.
import * as fs from 'node:fs';
import type { Finding } from '../analysis';
import { ElfFile, STT_FUNC, SHN_UNDEF, SHN_ABS } from '../engine/elf';
import { demangleAll } from '../engine/demangle';
import { stripLlvmSuffix } from '../engine/symbols';
import type { PatchResult } from '../engine/types';
import { instanceNames } from '../support/debuginfo';
import { sameLayout, displayName } from '../layout-gate';
import type { LayoutChange, TypeLayout } from '../layout-gate';
import { decideMigration, describeHolders, describeUnmatched, findHolders, matchRenamedInstances } from '../migration';
import type { DefinedFunction, Holder, MigrationPlan, RenamedPair } from '../migration';
import type { RunningApp } from './app-lifecycle';
import type { CompiledLayoutsVerdict } from './compiled-layouts';

export interface StateMigrationDeps {
  /** The running app, if any. */
  app: () => RunningApp | undefined;
  /** `std::any::type_name`s of the app's live HotState handles, as its agent reported them. */
  registered: (app: RunningApp) => string[];
  /** The workspace's Rust sources with their current text. */
  sources: () => Iterable<[string, string]>;
  /** Crate names of a file (underscores). */
  cratesOf: (file: string) => string[];
  /** An info line for the log. */
  log?: (message: string) => void;
}

/**
 * The gate's verdict with what the patch migrates, when it does; with legacy symbol names, the
 * renamed functions the patch carries for it (jump-table entries the engine's exact-name table lacks).
 */
export type MigratingVerdict = CompiledLayoutsVerdict & {
  migrate?: MigrationPlan;
  migrateChanges?: LayoutChange[];
  renamed?: RenamedPair[];
  /** Why the patch must not be sent although no layout finding stands (legacy names after a migration). */
  refused?: string;
};

type BuiltPatch = Extract<PatchResult, { ok: true }>;

/** The patch with the renamed functions' entries added to its jump table and to what it maps. */
export function withRenamedInstances(result: BuiltPatch, renamed: readonly RenamedPair[] | undefined): BuiltPatch {
  if (!renamed || renamed.length === 0) return result;
  const map = { ...result.jumpTable.map };
  for (const p of renamed) map[String(p.fromAddress)] = p.toAddress;
  return {
    ...result,
    jumpTable: { ...result.jumpTable, map },
    functions: { ...result.functions, mapped: [...result.functions.mapped, ...renamed.map((p) => p.to)] },
  };
}

interface AppRecord {
  /** The layouts values of a type now have, after a migration (the executable's are outdated). */
  layouts: Map<string, TypeLayout>;
  /** What the last migration of each type changed. */
  described: Map<string, string>;
  /** Why the last migration of a type failed (cleared by a success). */
  failed: Map<string, string>;
  /** Whether the app's functions carry v0 symbol names (read once). */
  v0?: boolean;
  /** DWARF instance names of the executable's functions asked for so far (null: none), for legacy names. */
  fatInstances: Map<string, string | null>;
}

const LEGACY_UNMATCHED =
  'with legacy symbol names (stable Rust\'s default) the layout change renamed functions that mention the type, and the patch\'s replacement of ' +
  'some could not be proven from the debug info (v0 names, `-C symbol-mangling-version=v0` in `.cargo/config.toml`, keep them apart by name)';

/** The source analysis' layout findings (the gate's are judged in `judge`). */
const LAYOUT_CODES = new Set(['struct-layout-changed', 'enum-layout-changed']);

export class StateMigration {
  private readonly records = new WeakMap<RunningApp, AppRecord>();

  constructor(private readonly deps: StateMigrationDeps) {}

  private record(app: RunningApp): AppRecord {
    let r = this.records.get(app);
    if (!r) this.records.set(app, (r = { layouts: new Map(), described: new Map(), failed: new Map(), fatInstances: new Map() }));
    return r;
  }

  /** Places that hold `type` by value (its last path segment searched in every source). */
  holders(type: string): Holder[] {
    return findHolders(this.deps.sources(), displayName(type));
  }

  /** The registered HotState type a layout finding is about, if any (same name, same crate). */
  private registeredFor(app: RunningApp, f: Finding): string | undefined {
    const crates = this.deps.cratesOf(f.file);
    return this.deps.registered(app).find((t) => displayName(t) === f.item && crates.includes(t.slice(0, t.indexOf('::'))));
  }

  /**
   * A restart-class layout finding on a type the running app holds only in HotState handles
   * becomes an info (the patch migrates it; the gate has the last word after the build); one
   * whose last migration failed says why. Every other finding is returned as it is.
   */
  rewrite(f: Finding): Finding {
    const app = this.deps.app();
    if (!app || f.severity !== 'restart' || !LAYOUT_CODES.has(f.code)) return f;
    const type = this.registeredFor(app, f);
    if (!type) return f;
    const rec = this.record(app);
    const failed = rec.failed.get(type);
    if (failed) return { ...f, message: `${f.message}. Migrating its HotState values failed: ${failed}` };
    const holders = this.holders(type);
    if (holders.length > 0) return { ...f, message: `${f.message}. It is in a HotState handle, but also held by value: ${describeHolders(holders)}` };
    const done = rec.described.get(type);
    return {
      ...f,
      code: 'state-migrated',
      severity: 'info',
      message: done
        ? `the app's \`${f.item}\` values were migrated to the new layout (${done}); a further layout change is migrated by the next patch the same way`
        : `\`${f.item}\` changed its layout, and the app holds it only in HotState handles: the next patch migrates its values ` +
          '(serialized by the old code, deserialized by the new; a new field needs `#[serde(default)]`) instead of requiring a restart',
    };
  }

  /**
   * The gate's verdict for the running app: changes that only repeat a migration already done
   * are no changes; the rest either migrate (all of them, or none) or stay restart findings,
   * with what keeps them from migrating.
   */
  judge(app: RunningApp, v: CompiledLayoutsVerdict, result?: BuiltPatch): MigratingVerdict {
    const out = this.judgeLayouts(app, v, result);
    if (out.findings.length > 0 || out.migrate || this.v0Names(app)) return out;
    // Legacy names, values migrated by an earlier patch: this patch's code is compiled for their
    // layout too, so the same functions carry new names again and must be carried the same way,
    // or the app's values meet code that does not know their layout.
    const migratedBefore = [...this.record(app).layouts.keys()];
    if (migratedBefore.length === 0) return out;
    const carried = this.carryRenamed(app, result, migratedBefore);
    if ('renamed' in carried) return { ...out, renamed: carried.renamed };
    return {
      ...out,
      refused:
        `the app's ${migratedBefore.map((t) => `\`${displayName(t)}\``).join(', ')} values were migrated by an earlier patch, and this patch must carry ` +
        `the functions that layout renamed: ${carried.why}. Restart the app to run this change`,
    };
  }

  private judgeLayouts(app: RunningApp, v: CompiledLayoutsVerdict, result: BuiltPatch | undefined): MigratingVerdict {
    if (!v.verdict.verified || v.verdict.changes.length === 0) return v;
    const rec = this.record(app);
    const keep = v.verdict.changes.map((c) => !(rec.layouts.has(c.type) && sameLayout(rec.layouts.get(c.type)!, c.after)));
    // A type migrated before is described from the layout its values have now, not the executable's.
    const changes = v.verdict.changes.filter((_, i) => keep[i]).map((c) => ({ ...c, before: rec.layouts.get(c.type) ?? c.before }));
    const findings = v.findings.filter((_, i) => keep[i]);
    const summaries = v.summaries.filter((_, i) => keep[i]);
    const verdict = { ...v.verdict, changes };
    if (changes.length === 0) return { ...v, findings, summaries, verdict };
    const registered = this.deps.registered(app);
    if (registered.length === 0) return { ...v, findings, summaries, verdict };
    const crates = Object.keys(app.build.workspaceCrates);
    const decision = decideMigration(changes, registered, (t) => this.holders(t), crates);
    if (decision.kind === 'migrate') {
      const migrating = { ...v, findings: [], summaries: [], verdict, migrate: decision.plan, migrateChanges: changes };
      if (this.v0Names(app)) return migrating;
      // Legacy names: the renamed functions' replacements, proven from both sides' DWARF, or no migration.
      const carried = this.carryRenamed(app, result, [...new Set([...decision.plan.types, ...rec.layouts.keys()])]);
      if ('renamed' in carried) return { ...migrating, renamed: carried.renamed };
      // The source finding's "the next patch migrates" says why not, until the next attempt.
      for (const t of decision.plan.types) rec.failed.set(t, carried.why);
      const explained = findings.map((f, i) => (registered.includes(changes[i].type) ? { ...f, message: `${f.message}. Not migrated: ${carried.why}` } : f));
      return { ...v, findings: explained, summaries, verdict };
    }
    // Say why the HotState types among them cannot migrate.
    const explained = findings.map((f, i) => {
      const why = decision.reasons.get(changes[i].type);
      return why && registered.includes(changes[i].type) ? { ...f, message: `${f.message}. Not migrated: ${why}` } : f;
    });
    return { ...v, findings: explained, summaries, verdict };
  }

  /** The renamed functions about `types` the patch carries, or why not (legacy names). */
  private carryRenamed(app: RunningApp, result: BuiltPatch | undefined, types: string[]): { renamed: RenamedPair[] } | { why: string } {
    try {
      if (!result) return { why: 'the patch could not be read' };
      const t0 = performance.now();
      const match = this.matchRenamed(app, result, types);
      this.deps.log?.(`legacy symbol names: renamed functions matched through DWARF in ${Math.round(performance.now() - t0)} ms (${match.pairs.length} matched, ${match.unmatched.length} not)`);
      if (match.unmatched.length === 0) return { renamed: match.pairs };
      return { why: `${LEGACY_UNMATCHED}: ${describeUnmatched(match.unmatched)}` };
    } catch (e) {
      return { why: `with legacy symbol names (stable Rust's default) the renamed functions that mention the type could not be matched: ${(e as Error).message}` };
    }
  }

  /** The patch's renamed legacy functions matched to the executable's (migration/renamed-instances.ts). */
  private matchRenamed(app: RunningApp, result: BuiltPatch, migrating: string[]) {
    const fat: DefinedFunction[] = [];
    for (const name of app.build.symbols.functionNames()) fat.push({ name, addresses: app.build.symbols.functionAddresses(name) ?? new Set() });
    const patch = new Map<string, Set<number>>();
    const so = ElfFile.open(result.soPath);
    try {
      for (const s of so.symtab() ?? []) {
        if (s.type !== STT_FUNC || s.shndx === SHN_UNDEF || s.shndx === SHN_ABS || !s.name) continue;
        const name = stripLlvmSuffix(s.name);
        patch.set(name, (patch.get(name) ?? new Set()).add(s.value));
      }
    } finally {
      so.close();
    }
    return matchRenamedInstances({
      fat,
      patch: [...patch].map(([name, addresses]) => ({ name, addresses })),
      migrating,
      demangle: demangleAll,
      // The executable does not change while it runs: each name is read from it once.
      fatInstances: (names) => {
        const known = this.record(app).fatInstances;
        const missing = names.filter((n) => !known.has(n));
        if (missing.length) {
          const read = instanceNames(fs.readFileSync(app.build.exePath), missing);
          for (const n of missing) known.set(n, read.get(n) ?? null);
        }
        const out = new Map<string, string>();
        for (const n of names) if (known.get(n)) out.set(n, known.get(n)!);
        return out;
      },
      // The patch library is linked without debug info: its objects have it (a name once).
      patchInstances: (names) => {
        const out = new Map<string, string>();
        if (names.length === 0) return out;
        for (const o of result.objectPaths) for (const [k, n] of instanceNames(fs.readFileSync(o), names)) if (!out.has(k)) out.set(k, n);
        return out;
      },
    });
  }

  /** Whether the app's own functions carry v0 symbol names (`_R…`), whose paths a layout change leaves alone. */
  private v0Names(app: RunningApp): boolean {
    const rec = this.record(app);
    if (rec.v0 === undefined) {
      const crate = app.bin.crateName;
      const tag = `${crate.length}${crate}`;
      rec.v0 = false;
      for (const n of app.build.symbols.functionNames()) if (n.startsWith('_R') && n.includes(tag)) (rec.v0 = true);
    }
    return rec.v0;
  }

  /** The agent migrated the plan's types with the patch: their layouts are the app's now. */
  confirmed(app: RunningApp, plan: MigrationPlan, changes: LayoutChange[]): void {
    const rec = this.record(app);
    for (const c of changes) rec.layouts.set(c.type, c.after);
    for (const t of plan.types) {
      rec.failed.delete(t);
      rec.described.set(t, plan.descriptions.get(t) ?? `\`${displayName(t)}\``);
    }
  }

  /** The agent refused or failed: nothing was applied; the findings say why until the next try. */
  failed(app: RunningApp, plan: MigrationPlan, error: string): void {
    const rec = this.record(app);
    for (const t of plan.types) rec.failed.set(t, error);
  }

  /** A new attempt starts: earlier failures are about older code. */
  retrying(app: RunningApp): void {
    this.record(app).failed.clear();
  }
}
