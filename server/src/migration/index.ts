// State migration's decisions (the session wires them in session/state-migration.ts): which
// layout changes the app's HotState handles let a patch carry, and what holds a type otherwise.
// Pure: no IO, no session, no LSP library; uses layout-gate/ for its layout descriptions only.
export { blankCommentsAndStrings, findHolders, holdersIn } from './holders';
export type { Holder } from './holders';
export { coveredBy, decideMigration, describeHolders, describeMigration } from './plan';
export type { MigrationDecision, MigrationPlan } from './plan';
export { describeUnmatched, matchRenamedInstances } from './renamed-instances';
export type { DefinedFunction, RenamedInput, RenamedMatch, RenamedPair } from './renamed-instances';
