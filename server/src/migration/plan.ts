// Which layout changes a patch may carry by migrating state instead of requiring a restart, and
// what to tell the user about them. Pure: the inputs are the layout gate's changes, the types the
// app's agent holds in `HotState` handles, and what else holds them (holders.ts).
import type { LayoutChange } from '../layout-gate';
import { describeDifference, displayName } from '../layout-gate';
import type { Holder } from './holders';

export interface MigrationPlan {
  /** `std::any::type_name` spellings to send in `MigrateState` (the gate's DWARF names). */
  types: string[];
  /** Per migrated type, what changed: `State gains speed (f32, default from serde)`. */
  descriptions: Map<string, string>;
}

export type MigrationDecision =
  | { kind: 'migrate'; plan: MigrationPlan }
  /** Some change cannot be migrated: the patch stays blocked; `reasons` say why, per type. */
  | { kind: 'restart'; reasons: Map<string, string> };

/**
 * The workspace type a change is about when it is one the migration of `migrating` covers: the
 * type itself, or a temporary of its own code — a dependency's generic over it
 * (`core::result::Result<app::State, serde_json::error::Error>`, made inside its deserialization)
 * or a type of its derived serde impls (`app::_::<impl serde::de::Deserialize for app::State>::…`).
 * Such temporaries exist only while its (de)serialization runs, which the migration does under
 * the handle's lock; a value of them held anywhere else would name the type in the source, which
 * holders.ts counts.
 */
export function coveredBy(change: string, migrating: readonly string[], crates: readonly string[]): string | undefined {
  if (migrating.includes(change)) return change;
  const serdeImpl = /<impl serde::(?:de::Deserialize|ser::Serialize)(?:<'de>)? for ([A-Za-z0-9_:<>, ]+?)>::/.exec(change);
  if (serdeImpl && migrating.includes(serdeImpl[1])) return serdeImpl[1];
  const root = change.slice(0, Math.max(0, change.indexOf('::')));
  if (crates.includes(root)) return undefined; // a workspace type holding it: a holder
  return migrating.find((t) => new RegExp(`[<, ]${escape(t)}[>,]`).test(change));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Migrate when every change is a registered `HotState` type nothing else holds, or one of its
 * temporaries; else the reasons, one per type that is not migratable.
 */
export function decideMigration(
  changes: readonly LayoutChange[],
  registered: readonly string[],
  holdersOf: (type: string) => Holder[],
  crates: readonly string[],
): MigrationDecision {
  const reasons = new Map<string, string>();
  const candidates = [...new Set(changes.map((c) => c.type).filter((t) => registered.includes(t)))];
  const migrating: string[] = [];
  for (const t of candidates) {
    const holders = holdersOf(t);
    if (holders.length === 0) migrating.push(t);
    else reasons.set(t, `\`${displayName(t)}\` is held by value outside its HotState handles: ${describeHolders(holders)}`);
  }
  const descriptions = new Map<string, string>();
  for (const c of changes) {
    const by = coveredBy(c.type, migrating, crates);
    if (!by) {
      if (!reasons.has(c.type)) reasons.set(c.type, registered.length ? `\`${displayName(c.type)}\` is not held in a HotState handle` : 'the app holds no HotState handles');
      continue;
    }
    if (by === c.type) descriptions.set(c.type, describeMigration(c));
  }
  if (reasons.size > 0 || migrating.length === 0) return { kind: 'restart', reasons };
  return { kind: 'migrate', plan: { types: migrating, descriptions } };
}

export function describeHolders(holders: readonly Holder[]): string {
  const shown = holders.slice(0, 3).map((h) => `\`${h.text.length > 60 ? `${h.text.slice(0, 57)}…` : h.text}\` (${basename(h.file)}:${h.line + 1})`);
  return shown.join(', ') + (holders.length > 3 ? ` and ${holders.length - 3} more` : '');
}

const basename = (f: string) => f.slice(f.lastIndexOf('/') + 1);

/** `State gains speed: f32 (serde's default); loses level` from the gate's two layouts. */
export function describeMigration(c: LayoutChange): string {
  const old = new Map(c.before.fields.map((f) => [f.name, f]));
  const now = new Map(c.after.fields.map((f) => [f.name, f]));
  const parts: string[] = [];
  const added = c.after.fields.filter((f) => !old.has(f.name));
  const removed = c.before.fields.filter((f) => !now.has(f.name));
  const retyped = c.after.fields.filter((f) => old.has(f.name) && old.get(f.name)!.type !== f.type);
  if (added.length) parts.push(`gains ${added.map((f) => `\`${f.name}\`: ${f.type}`).join(', ')} (its \`#[serde(default)]\` value, or an old field's through \`#[serde(alias)]\`)`);
  if (removed.length) parts.push(`loses ${removed.map((f) => `\`${f.name}\``).join(', ')}`);
  if (retyped.length) parts.push(`retypes ${retyped.map((f) => `\`${f.name}\`: ${old.get(f.name)!.type} → ${f.type}`).join(', ')}`);
  if (parts.length === 0) parts.push(describeDifference(c.before, c.after));
  return `\`${displayName(c.type)}\` ${parts.join('; ')}`;
}
