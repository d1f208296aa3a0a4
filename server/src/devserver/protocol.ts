// The devserver wire format (dx 0.7.x compatible) and the subsecond-agent report messages:
// encoding server→app frames, parsing the connect query and app→server frames.
// Pure functions only: no sockets, no state, never builds or analyses anything.

import type { JumpTable } from '../support/jump-table';
export type { JumpTable };

/** The unit variants of dx's `DevserverMsg`, sent as bare JSON strings. */
export type DevserverCommand = 'HotPatchStart' | 'FullReloadStart' | 'FullReloadFailed' | 'FullReloadCommand' | 'Shutdown';

export const DEVSERVER_COMMANDS: readonly DevserverCommand[] = [
  'HotPatchStart',
  'FullReloadStart',
  'FullReloadFailed',
  'FullReloadCommand',
  'Shutdown',
];

/** What the agent did about entry detours after a patch (`PatchResult.detours`). */
export interface DetourReport {
  /** Functions whose every known entry now jumps to the newest version: those whose code changed. */
  detoured: number;
  /** Functions of the plan whose code did not change (left as they are); absent from older agents. */
  unchanged?: number;
  /** Functions left to the jump table, all of them; `skipped` lists up to 100 with the reason. */
  skippedTotal: number;
  skipped: Array<{ name: string; reason: string }>;
  entriesWritten: number;
  /** Islands (16 bytes each) this pass allocated; absent from older agents. */
  islandsAllocated?: number;
  threadsStopped: number;
  micros: number;
  /** The whole pass failed (the jump table still applies). */
  error?: string;
}

/** Entry-detour data for one patch, sent only to subsecond-agent clients right before its HotReload frame. */
export interface DetourPlanMessage {
  /** `[static address in the executable, size, static address in the patch, size, symbol name]`. */
  entries: Array<[number, number, number, number, string]>;
  /** Symbol names whose entries must keep their code (signature changed). */
  keep: string[];
  /** Symbol names whose code is what their entries already lead to: recorded, not rewritten. */
  unchanged?: string[];
}

/** A report from subsecond-agent (sent only when the app runs with SUBSECOND_LSP=1). */
export type AgentMessage =
  /**
   * `secret`: the per-launch secret the server gave the app (SUBSECOND_LSP_SECRET), if any.
   * `probe`: what the agent read from the launch's probe file (SUBSECOND_LSP_PROBE), `null` when
   * it could not; absent from agents that take patch libraries only by path.
   */
  | { type: 'Hello'; pid: number; agentVersion: string; secret?: string; probe?: string | null }
  | {
      type: 'PatchResult';
      lib: string;
      ok: boolean;
      error?: string;
      applyMicros: number;
      entries: number;
      pid: number;
      /** Present when the agent detoured entries (it was sent a DetourPlan for this lib). */
      detours?: DetourReport;
      /** Types whose HotState values the agent migrated with this patch (it was sent a MigrateState). */
      migrated?: string[];
    }
  /** The types (`std::any::type_name`) of the app's live HotState handles; sent again when one is made. */
  | { type: 'HotStateTypes'; pid: number; types: string[] };

/** What an app→server text frame turned out to be. */
export type ClientFrame =
  | { kind: 'agent'; message: AgentMessage }
  /** dx's `ClientMsg::Log`, sent by Dioxus web clients: valid, and of no use to us. */
  | { kind: 'log' }
  | { kind: 'invalid'; reason: string };

/** Query of `GET /_dioxus?aslr_reference=..&build_id=..&pid=..`, with problems listed rather than thrown. */
export interface ConnectQuery {
  aslrReference: number | undefined;
  buildId: number;
  pid: number | undefined;
  problems: string[];
}

const DECIMAL = /^[0-9]{1,20}$/;

/** A non-negative decimal integer that JS represents exactly, else undefined. */
function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

export function parseConnectQuery(params: URLSearchParams): ConnectQuery {
  const problems: string[] = [];
  const field = (name: string, max: number, required: boolean): number | undefined => {
    const raw = params.get(name);
    if (raw === null) {
      if (required) problems.push(`missing ${name}`);
      return undefined;
    }
    const value = parseDecimal(raw);
    if (value === undefined || value > max) {
      problems.push(`invalid ${name}=${JSON.stringify(raw.slice(0, 40))}`);
      return undefined;
    }
    return value;
  };
  let aslrReference = field('aslr_reference', Number.MAX_SAFE_INTEGER, true);
  if (aslrReference === 0) {
    // What dioxus-devtools sends when dlsym cannot find `main`: the app cannot apply patches.
    problems.push('aslr_reference=0 (the app could not locate its own main)');
    aslrReference = undefined;
  }
  const pid = field('pid', 0xffff_ffff, true);
  if (pid === 0) problems.push('invalid pid=0');
  // dx treats a missing build_id as the primary build (0).
  const buildId = field('build_id', 0xffff_ffff, false) ?? 0;
  return { aslrReference, buildId, pid: pid === 0 ? undefined : pid, problems };
}

/** The subsecond-agent versions this server speaks with (same major.minor: the report format is that series'). */
export const SERVED_AGENT_SERIES = '0.1';

/** Why an agent of this version cannot be served, or undefined when it can. */
export function agentVersionProblem(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/.exec(version);
  if (!m) return `subsecond-agent reported a malformed version ${JSON.stringify(version.slice(0, 40))}`;
  if (`${m[1]}.${m[2]}` === SERVED_AGENT_SERIES) return undefined;
  return (
    `the app's subsecond-agent is version ${version}, which this subsecond-lsp cannot serve ` +
    `(it serves subsecond-agent ${SERVED_AGENT_SERIES}.x): use subsecond-agent ${SERVED_AGENT_SERIES} in the app's Cargo.toml, ` +
    `or a subsecond-lsp that matches the agent`
  );
}

/** Checks a table before it goes out, so a bad table never reaches an app. Returns the problem, if any. */
export function validateJumpTable(table: JumpTable): string | undefined {
  if (typeof table.lib !== 'string' || table.lib.length === 0) return 'jump table has no lib path';
  if (!table.lib.startsWith('/')) return `jump table lib is not an absolute path: ${table.lib}`;
  for (const name of ['aslr_reference', 'new_base_address', 'ifunc_count'] as const) {
    const v = table[name];
    if (!Number.isSafeInteger(v) || v < 0) return `jump table ${name} is not a non-negative integer: ${v}`;
  }
  if (typeof table.map !== 'object' || table.map === null) return 'jump table has no map';
  for (const [key, value] of Object.entries(table.map)) {
    if (parseDecimal(key) === undefined) return `jump table map key is not a decimal address: ${key}`;
    if (!Number.isSafeInteger(value) || value < 0) return `jump table map value for ${key} is not an address: ${value}`;
  }
  return undefined;
}

/** `{"HotReload":{...}}` exactly as dx serialises its `HotReloadMsg` for a native patch. */
export function encodeHotReload(table: JumpTable, msElapsed: number, forBuildId: number, forPid: number): string {
  const jumpTable = {
    lib: table.lib,
    // Rebuilt so keys are decimal strings and values plain numbers whatever the caller passed.
    map: Object.fromEntries(Object.entries(table.map).map(([k, v]) => [String(parseDecimal(k)), Number(v)])),
    aslr_reference: table.aslr_reference,
    new_base_address: table.new_base_address,
    ifunc_count: table.ifunc_count,
  };
  return JSON.stringify({
    HotReload: {
      templates: [],
      assets: [],
      ms_elapsed: Math.max(0, Math.round(msElapsed)),
      jump_table: jumpTable,
      for_build_id: forBuildId,
      for_pid: forPid,
    },
  });
}

/**
 * `{"SubsecondAgent":{"PatchLibrary":{"lib":…,"bytes":n}}}`: the next binary frames, `n` bytes in
 * all, are the library the HotReload frame for `lib` names (for an app that cannot read it).
 */
export function encodePatchLibrary(lib: string, bytes: number): string {
  return JSON.stringify({ SubsecondAgent: { PatchLibrary: { lib, bytes } } });
}

/**
 * `{"HotReload":{...}}` with only `assets`: what dx sends when a file an `asset!()` names changes
 * (the paths as the app names them, e.g. `/assets/main.css`). No jump table, no templates: the
 * Dioxus desktop renderer re-fetches the page's stylesheets on it.
 */
export function encodeAssetReload(assets: string[]): string {
  return JSON.stringify({
    HotReload: { templates: [], assets, ms_elapsed: 0, jump_table: null, for_build_id: null, for_pid: null },
  });
}

/**
 * `{"HotReload":{...}}` with only `templates`: what dx sends for an edit of rsx! contents that
 * templates can carry (static text, literal attributes, formatted-text segments), no build. Each
 * template is a `HotReloadTemplateWithLocation` exactly as dioxus-devtools-types serializes it
 * (rsx-templates/ makes them with Dioxus' own crates); the app's dioxus-core swaps it in by key.
 */
export function encodeTemplateReload(templates: unknown[]): string {
  return JSON.stringify({
    HotReload: { templates, assets: [], ms_elapsed: 0, jump_table: null, for_build_id: null, for_pid: null },
  });
}

/** `{"SubsecondAgent":{"DetourPlan":{…}}}`: the agent pairs it with the HotReload frame for the same lib. */
export function encodeDetourPlan(table: JumpTable, plan: DetourPlanMessage): string {
  return JSON.stringify({
    SubsecondAgent: { DetourPlan: { lib: table.lib, aslr_reference: table.aslr_reference, entries: plan.entries, keep: plan.keep, ...(plan.unchanged?.length ? { unchanged: plan.unchanged } : {}) } },
  });
}

/**
 * Which functions of a plan now have every entry leading to their new copy, by the agent's report:
 * all but those it skipped; undefined (not known for any) without a complete report.
 */
export function detouredByReport(report: DetourReport | undefined): ((name: string) => boolean) | undefined {
  if (!report || report.error !== undefined || report.skipped.length < report.skippedTotal) return undefined;
  const skipped = new Set(report.skipped.map((s) => s.name));
  return (name) => !skipped.has(name);
}

/** `{"SubsecondAgent":{"MigrateState":{…}}}`: the agent migrates these types' HotState values with the HotReload frame of the same lib. */
export function encodeMigrateState(table: JumpTable, types: readonly string[]): string {
  return JSON.stringify({ SubsecondAgent: { MigrateState: { lib: table.lib, types } } });
}

function parseDetourReport(v: unknown): DetourReport | undefined {
  if (!isObject(v) || !isCount(v.detoured) || !isCount(v.skipped_total) || !Array.isArray(v.skipped)) return undefined;
  const report: DetourReport = {
    detoured: v.detoured,
    skippedTotal: v.skipped_total,
    skipped: v.skipped.filter(isObject).map((x) => ({ name: String(x.name), reason: String(x.reason) })),
    entriesWritten: isCount(v.entries_written) ? v.entries_written : 0,
    threadsStopped: isCount(v.threads_stopped) ? v.threads_stopped : 0,
    micros: isCount(v.micros) ? v.micros : 0,
  };
  if (isCount(v.unchanged)) report.unchanged = v.unchanged;
  if (isCount(v.islands_allocated)) report.islandsAllocated = v.islands_allocated;
  if (typeof v.error === 'string') report.error = v.error;
  return report;
}

export function encodeCommand(command: DevserverCommand): string {
  return JSON.stringify(command);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A probe is a 32-hex-digit token; anything much longer is not one. */
const MAX_PROBE_TEXT = 256;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Classifies one text frame from an app. Never throws. */
export function parseClientFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: `not JSON: ${JSON.stringify(text.slice(0, 80))}` };
  }
  if (isObject(value) && 'Log' in value) return { kind: 'log' };
  const body = isObject(value) ? value.SubsecondAgent : undefined;
  if (!isObject(body)) return { kind: 'invalid', reason: `unknown message: ${text.slice(0, 80)}` };

  const hello = body.Hello;
  if (isObject(hello)) {
    if (!isCount(hello.pid) || typeof hello.agent_version !== 'string') {
      return { kind: 'invalid', reason: `malformed Hello: ${text.slice(0, 120)}` };
    }
    if (hello.secret !== undefined && hello.secret !== null && typeof hello.secret !== 'string') {
      return { kind: 'invalid', reason: `malformed Hello: ${text.slice(0, 120)}` };
    }
    if (hello.probe !== undefined && hello.probe !== null && (typeof hello.probe !== 'string' || hello.probe.length > MAX_PROBE_TEXT)) {
      return { kind: 'invalid', reason: `malformed Hello: ${text.slice(0, 120)}` };
    }
    const message: AgentMessage = { type: 'Hello', pid: hello.pid, agentVersion: hello.agent_version };
    if (typeof hello.secret === 'string') message.secret = hello.secret;
    if (hello.probe !== undefined) message.probe = hello.probe as string | null;
    return { kind: 'agent', message };
  }
  const r = body.PatchResult;
  if (isObject(r)) {
    const errorOk = r.error === null || r.error === undefined || typeof r.error === 'string';
    if (
      typeof r.lib !== 'string' ||
      typeof r.ok !== 'boolean' ||
      !errorOk ||
      !isCount(r.apply_micros) ||
      !isCount(r.entries) ||
      !isCount(r.pid)
    ) {
      return { kind: 'invalid', reason: `malformed PatchResult: ${text.slice(0, 160)}` };
    }
    const message: AgentMessage = {
      type: 'PatchResult',
      lib: r.lib,
      ok: r.ok,
      applyMicros: r.apply_micros,
      entries: r.entries,
      pid: r.pid,
    };
    if (typeof r.error === 'string') message.error = r.error;
    if (r.detours !== undefined && r.detours !== null) {
      const detours = parseDetourReport(r.detours);
      if (!detours) return { kind: 'invalid', reason: `malformed PatchResult.detours: ${text.slice(0, 160)}` };
      message.detours = detours;
    }
    if (r.migrated !== undefined && r.migrated !== null) {
      if (!Array.isArray(r.migrated) || !r.migrated.every((t) => typeof t === 'string')) {
        return { kind: 'invalid', reason: `malformed PatchResult.migrated: ${text.slice(0, 160)}` };
      }
      message.migrated = r.migrated as string[];
    }
    return { kind: 'agent', message };
  }
  const h = body.HotStateTypes;
  if (isObject(h)) {
    if (!isCount(h.pid) || !Array.isArray(h.types) || !h.types.every((t) => typeof t === 'string')) {
      return { kind: 'invalid', reason: `malformed HotStateTypes: ${text.slice(0, 160)}` };
    }
    return { kind: 'agent', message: { type: 'HotStateTypes', pid: h.pid, types: h.types as string[] } };
  }
  return { kind: 'invalid', reason: `unknown SubsecondAgent message: ${text.slice(0, 80)}` };
}
