// engine/index.ts — the engine's public API: fat build, patch builder, and the data shapes.
// The engine builds hot patches for a running Rust app (subsecond): a fat build once, then per
// save a thin rebuild, a stub, a patch .so and a jump table. It never imports the LSP library or
// the devserver; the session wires it to both.
export type {
  JumpTable, RustcDiagnostic, RustcSpan, FatBuildRequest, FatBuildResult, FatBuild, PatchTimings, PatchResult, PatchStage, PatchStats,
} from './types';
export { fatBuild } from './fat-build';
export { PatchBuilder, patchLibraryDir } from './thin-build';
export { keepListFor } from './detour-plan';
export type { DetourPlan, DetourEntry, KeptFunction } from './detour-plan';
export type { PatchBuilderOptions, LogFn, PreparedPatch, BuildRequest } from './thin-build';
export type { Arch } from './elf';
export type { LinkerKind } from './linker';
export { findOnPath } from './linker';
export { crateInputsOf, readCrateInputs, depInfoPath, parseDepInfo } from './dep-info';
export { buildScriptInputsOf, rerunIfChangedPaths, packageRootOf } from './build-script-output';
export type { BuildScriptInput } from './build-script-output';
export type { RustcRecord } from './recorder';
