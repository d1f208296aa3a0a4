// The item model: what the analysis remembers about each Rust item of a file.
//
// Owns: the plain, position-free, immutable description of items (layout of structs, unions and
// enums, signatures, static and thread-local types, trait shapes, normalized hashes) and the
// placement of such a model in a file (`Placed`). Models are shared between the current state and
// the baseline, and between versions of a file when an item's text did not change, so they must
// never be mutated after construction and must never hold absolute positions.

export type ItemKind =
  | 'struct' | 'union' | 'enum' | 'alias' | 'static' | 'const' | 'tl' | 'trait' | 'fn'
  | 'impl' | 'mod' | 'macro' | 'use' | 'other' | 'unparsed';

export interface FieldShape {
  /** Field name; for tuple fields the index as a string. */
  name: string;
  /** Canonical type text (see lexer.render). */
  type: string;
}

export type Shape = 'named' | 'tuple' | 'unit';

export interface VariantShape {
  name: string;
  shape: Shape;
  fields: FieldShape[];
  /** Canonical text of an explicit discriminant, '' when none. */
  discriminant: string;
}

/** Layout-relevant description of a struct, union or enum; `key` is its canonical summary. */
export interface LayoutShape {
  generics: string;
  repr: string;
  shape: Shape;
  fields: FieldShape[];
  variants?: VariantShape[];
  key: string;
}

/** A hook call in a Dioxus component's body: the function's name, and its statement up to the call's end (what tells two calls apart). */
export interface HookCall {
  name: string;
  key: string;
}

export interface FnShape {
  /** Everything an ABI depends on: qualifiers, generics, parameter types, return type, where. */
  sigKey: string;
  /** `fn(&mut State, u32) -> bool` style, for messages. */
  sigDisplay: string;
  /** Normalized body hash (0 when the function has no body). */
  bodyHash: number;
  /** Body `{...}` range relative to the unit start (bodyLen 0 when absent). */
  bodyRel: number;
  bodyLen: number;
  /** Canonical self type of the enclosing impl, if a method. */
  selfType?: string;
  isMain: boolean;
  /** A Dioxus `#[component]`: its parameters are the fields of the props the app keeps (dioxus-components.ts). */
  component?: boolean;
  /** A Dioxus server function's attribute (`server`, `post("/api/add")`), see dioxus-server-fns.ts. */
  serverFn?: string;
  /** A Dioxus component's `use_*` calls in order (dioxus-components.ts); absent for other functions. */
  hooks?: HookCall[];
  /** `thread_local!`s declared in the body: their storage outlives a patch like any other. */
  localTls?: Array<{ name: string; type: string }>;
}

export interface TraitItemShape {
  kind: 'fn' | 'type' | 'const';
  name: string;
  sig: string;
  display: string;
}

export interface TraitShape {
  /** Generic parameters, supertraits and where clause. */
  header: string;
  items: TraitItemShape[];
  key: string;
}

/** A static, const or thread-local's type and initializer. */
export interface ValueShape {
  type: string;
  mutable: boolean;
  initHash: number;
}

/** A function named at a hot-call site: `subsecond::call(f)`, `HotFn::current(f)`, `hot!(f)`. */
export interface HotRef {
  name: string;
  /** Written as a method call (`x.f(..)` inside a hot closure): only methods can match. */
  method: boolean;
}

/** A closure passed to a hot call that subsecond 0.7 never patches (see closures.ts). */
export interface NeverPatchedClosure {
  /** The closure's head, `|..|` or `move |..|`, relative to the unit start. */
  rel: number;
  len: number;
  /** Its one capture as written: `state`, `self`, `self.world`. */
  place: string;
  move: boolean;
  /** Passed to a bare `call(..)`: subsecond's only in a file that imports it. */
  bare: boolean;
}

/**
 * An item-level macro invocation (`bitflags! { .. }` at the top level or in a mod, `m!();` among
 * the items of an impl or trait): the items it generates are not modelled.
 */
export interface MacroCall {
  /** The macro's name (last path segment), `bitflags`. */
  name: string;
  /** Where it sits: the inline mod path, or the impl / trait identity for its members. */
  scope: string;
  /** The macro name's range relative to the unit start. */
  rel: number;
  len: number;
  /** Normalized hash of the invocation's input. */
  hash: number;
}

export interface ItemModel {
  kind: ItemKind;
  /** Identity inside the file: inline mod path + (impl header) + name. */
  key: string;
  /** Display name: `App`, `App::draw`, `ui::Panel`, `COUNTER`. */
  name: string;
  /** Last segment of the name, used for workspace-wide resolution. */
  simple: string;
  /** Name range relative to the unit start. */
  nameRel: number;
  nameLen: number;
  /**
   * Canonical `#[cfg(..)]` predicates of the item and of the mods / impl it sits in (joined with
   * `, `); part of its identity, so that `#[cfg]` alternatives sharing a name are told apart.
   */
  cfg?: string;
  /** The item's subtree (or its context) has parse errors: it is never judged. */
  unknown: boolean;
  /** Normalized hash of the item's code (comments, doc comments and formatting excluded). */
  hash: number;
  layout?: LayoutShape;
  fn?: FnShape;
  trait?: TraitShape;
  value?: ValueShape;
  /** Canonical `<generics> = Target` of a type alias. */
  alias?: string;
  /** Type names the item holds by value (layout kinds, aliases, statics, thread-locals). */
  deps?: string[];
  hot?: HotRef[];
  /** Closures in the body that subsecond never patches (functions and methods). */
  neverPatched?: NeverPatchedClosure[];
  /** Item-level macro invocations: the item itself (a macro invocation) or members of an impl / trait. */
  macros?: MacroCall[];
}

/** A model placed in a file: absolute positions are `at + model.*Rel`. */
export interface Placed {
  m: ItemModel;
  at: number;
}
