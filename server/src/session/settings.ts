// User settings, from LSP initializationOptions / workspace/configuration or from the command line.
// Plain data and validation only.
import { isIP } from 'node:net';
import { isDocsUrl } from '../support/project';

/**
 * Where the app's terminal is: "none" (no terminal: its output is piped into the log and the
 * front end), "editor" (the editor opens it in its integrated terminal, `subsecond/runInTerminal`),
 * a command prefix that opens a terminal (["tmux", "new-window"], ["kitty", "-e"]), or "inherit"
 * (the terminal mode hands over its own terminal; never accepted from an editor).
 */
export type AppTerminal = 'none' | 'editor' | 'inherit' | string[];

export interface Settings {
  /** Patch on every save when an app is running (default true). */
  autoPatch: boolean;
  /** Cargo.toml to use; default: the nearest one at or above the workspace folder. */
  manifestPath?: string;
  /** Package and bin target to run; default: the only bin, or the root package's bin. */
  package?: string;
  bin?: string;
  /** Extra arguments for the fat `cargo build` (e.g. ["--features", "dev"]). */
  cargoArgs: string[];
  /** Files larger than this are not analysed (bytes). */
  maxFileBytes: number;
  /** How long to wait for the agent to answer a patch (ms). */
  patchAckTimeoutMs: number;
  /** Where the app's terminal is (default "none"). */
  appTerminal: AppTerminal;
  /**
   * Let subsecond-agent rewrite the entries of patched functions so every caller runs the new
   * code (default true). Off: jump-table semantics only, as with dx.
   */
  detours: boolean;
  /**
   * When unsaved edits reach the app: "save" (default) patches what is saved; "pause" patches a
   * cleanly parsing, patchable buffer once typing pauses, without saving (live edits).
   */
  patchOn: 'save' | 'pause';
  /** Build the patch from the unsaved buffers while typing pauses, so a save only sends it (default true). */
  speculate: boolean;
  /** How long the buffers must be still before a speculative build or a live edit (ms). */
  pauseMs: number;
  /**
   * Where diagnostics link to: the URL of a published copy of docs/ (findings.md is appended).
   * Default: the docs shipped with the server, as a file: URI.
   */
  docsUrl?: string;
  /**
   * The address the devserver binds (default "127.0.0.1"). Another address makes it reachable from
   * other machines; such apps are served only with their launch secret. Read when it starts.
   */
  devserverAddress: string;
  /** The devserver's port; 0 (default) picks a free one. A fixed port suits a tunnel set up once. */
  devserverPort: number;
}

export const defaultSettings: Settings = {
  autoPatch: true,
  cargoArgs: [],
  maxFileBytes: 2 * 1024 * 1024,
  patchAckTimeoutMs: 10_000,
  appTerminal: 'none',
  detours: true,
  patchOn: 'save',
  speculate: true,
  pauseMs: 300,
  devserverAddress: '127.0.0.1',
  devserverPort: 0,
};

/** Merges untrusted client input over the defaults; wrong types are reported, not thrown. */
export function mergeSettings(base: Settings, input: unknown, problems: string[] = []): Settings {
  if (input === null || input === undefined) return base;
  if (typeof input !== 'object') {
    problems.push(`settings must be an object, got ${typeof input}`);
    return base;
  }
  const raw = input as Record<string, unknown>;
  // Accept both { subsecond: {...} } and the section itself.
  const src = (typeof raw.subsecond === 'object' && raw.subsecond !== null ? raw.subsecond : raw) as Record<string, unknown>;
  const out: Settings = { ...base };
  const str = (k: 'manifestPath' | 'package' | 'bin') => {
    const v = src[k];
    if (v === undefined || v === null || v === '') return;
    if (typeof v === 'string') out[k] = v;
    else problems.push(`setting "${k}" must be a string`);
  };
  str('manifestPath');
  str('package');
  str('bin');
  if (src.docsUrl !== undefined && src.docsUrl !== null && src.docsUrl !== '') {
    if (typeof src.docsUrl === 'string' && isDocsUrl(src.docsUrl)) out.docsUrl = src.docsUrl;
    else problems.push('setting "docsUrl" must be an absolute http(s) or file URL of the docs directory');
  }
  for (const k of ['autoPatch', 'detours', 'speculate'] as const) {
    if (src[k] === undefined) continue;
    if (typeof src[k] === 'boolean') out[k] = src[k];
    else problems.push(`setting "${k}" must be true or false`);
  }
  if (src.cargoArgs !== undefined) {
    if (Array.isArray(src.cargoArgs) && src.cargoArgs.every((a) => typeof a === 'string')) out.cargoArgs = src.cargoArgs as string[];
    else problems.push('setting "cargoArgs" must be an array of strings');
  }
  if (src.appTerminal !== undefined && src.appTerminal !== null) {
    const v = src.appTerminal;
    if (v === 'none' || v === 'editor') out.appTerminal = v;
    else if (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string' && a !== '')) out.appTerminal = v as string[];
    else problems.push('setting "appTerminal" must be "none", "editor" or a command prefix such as ["tmux", "new-window"]');
  }
  if (src.patchOn !== undefined && src.patchOn !== null) {
    if (src.patchOn === 'save' || src.patchOn === 'pause') out.patchOn = src.patchOn;
    else problems.push('setting "patchOn" must be "save" or "pause"');
  }
  if (src.devserverAddress !== undefined && src.devserverAddress !== null) {
    const v = src.devserverAddress;
    if (typeof v === 'string' && (isIP(v) !== 0 || v === 'localhost')) out.devserverAddress = v;
    else problems.push('setting "devserverAddress" must be an IP address such as "127.0.0.1", "0.0.0.0" or "::1"');
  }
  if (src.devserverPort !== undefined && src.devserverPort !== null) {
    const v = src.devserverPort;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) out.devserverPort = v;
    else problems.push('setting "devserverPort" must be a port number from 0 (any free port) to 65535');
  }
  for (const k of ['maxFileBytes', 'patchAckTimeoutMs', 'pauseMs'] as const) {
    const v = src[k];
    if (v === undefined) continue;
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[k] = v;
    else problems.push(`setting "${k}" must be a positive number`);
  }
  return out;
}
