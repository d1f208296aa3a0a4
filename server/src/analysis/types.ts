// Public data of the analysis layer: findings and change summaries.
//
// Owns: the plain types other layers (session, LSP rendering, terminal mode) consume. Positions
// follow the LSP convention (0-based lines, UTF-16 code units) so the protocol layer can pass
// them through. Must never: import the LSP library or carry behaviour.

export type FindingCode =
  | 'struct-layout-changed'
  | 'enum-layout-changed'
  | 'static-type-changed'
  | 'thread-local-type-changed'
  | 'trait-changed'
  | 'hot-signature-changed'
  | 'static-initializer-changed'
  | 'thread-local-added'
  | 'thread-local-initializer-changed'
  | 'thread-local-reset'
  | 'static-mut-reset'
  | 'main-changed'
  | 'macro-items-not-judged'
  | 'hot-closure-never-patched'
  | 'patched-code-unreachable'
  | 'component-props-changed'
  | 'component-hooks-changed'
  | 'global-initializer-changed'
  | 'context-provider-changed'
  | 'global-signal-moved'
  | 'server-fn-signature-changed'
  /** Found by the layout gate (layout-gate/) in the compiler's debug info, not by this analysis. */
  | 'compiled-layout-changed'
  /** A layout change carried by migrating `HotState` values (session/state-migration.ts), not by this analysis. */
  | 'state-migrated';

/** 0-based; character in UTF-16 code units (LSP convention). */
export interface SourcePosition {
  line: number;
  character: number;
}

export interface SourceRange {
  start: SourcePosition;
  end: SourcePosition;
}

export interface RelatedLocation {
  file: string;
  range: SourceRange;
  message: string;
}

export interface Finding {
  code: FindingCode;
  /**
   * restart → LSP Warning that blocks the patch; warning → LSP Warning about the code itself
   * (no restart, does not block); info → LSP Information.
   */
  severity: 'restart' | 'warning' | 'info';
  /** Absolute path. */
  file: string;
  /** The changed item's name in the current text (a closure's `|..|` for hot-closure-never-patched). */
  range: SourceRange;
  /** The whole item (attributes to closing brace; a method from its name to its body's end): where a fix applies. */
  itemRange?: SourceRange;
  /** e.g. "App", "App::draw", "COUNTER", "tick"; the enclosing function for a closure. */
  item: string;
  /** Says what changed and why it matters. */
  message: string;
  /** e.g. the definition of an embedded type whose layout changed, in another file. */
  related?: RelatedLocation[];
}

export interface FileChangeSummary {
  file: string;
  crate: string | undefined;
  /** Every item whose code changed vs the baseline (bodies included; comments and formatting not). */
  changedItems: string[];
}

export type ThreadLocalPolicy = 'keep' | 'reset';

export interface AnalyzerOptions {
  /** Maps a file to its crate id; files of different crates are separate namespaces. */
  crateOf?: (file: string) => string | undefined;
  /** What the engine does with thread-locals a patch touches (default 'keep'). */
  threadLocalPolicy?: ThreadLocalPolicy;
  /** How many files keep a syntax tree for incremental re-parsing (default 24). */
  maxTrees?: number;
}
