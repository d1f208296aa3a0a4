// The analysis layer's public surface.
//
// Owns: nothing but re-exports. Everything other layers may use is exported here; the modules
// behind it (lexer, shapes, items, diff, syntax) are internal and may change freely.

export { PatchabilityAnalyzer, MAX_PARSE_CHARS } from './analyzer';
export type { UpdateTimings } from './analyzer';
export { bevyStorageNote } from './bevy-storage';
export type { BevyStorage } from './bevy-storage';
export { matchDemangled } from './changed-functions';
export type { ChangedFunction } from './changed-functions';
export type { InlineHint } from './fn-facts';
export type {
  AnalyzerOptions, FileChangeSummary, Finding, FindingCode, RelatedLocation, SourcePosition,
  SourceRange, ThreadLocalPolicy,
} from './types';
