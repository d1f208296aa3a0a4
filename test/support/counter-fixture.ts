// Bundled apps (clients/*) copied to a stable temp dir, so tests and benchmarks can edit their
// sources without touching the repository. Each copy's target/ survives between runs, so only the
// first run pays for compiling subsecond and its dependencies.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './lsp-client';

export interface ClientFixture {
  /** The temp dir holding `agent-crate/` and `clients/<name>/`, as in the repository. */
  root: string;
  /** The copied client's directory (its cargo workspace root). */
  clientDir: string;
}

export interface CounterFixture {
  root: string;
  counterDir: string;
  mainRs: string;
  coreRs: string;
}

export interface Tick {
  tick: number;
  count: number;
  tip: string;
  core: string;
  pid: number;
  line: string;
}

function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'target') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesBelow(full));
    else out.push(full);
  }
  return out;
}

/**
 * A fresh copy of `clients/<clientName>` under the temp dir `tmpName`. The agent crate is copied
 * too, beside it as in the repository, because clients depend on it by relative path.
 */
export function prepareClientFixture(clientName: string, tmpName: string): ClientFixture {
  const root = path.join(os.tmpdir(), tmpName);
  fs.mkdirSync(root, { recursive: true });
  for (const entry of ['agent-crate', 'clients']) {
    const dst = path.join(root, entry);
    if (fs.existsSync(dst)) for (const f of filesBelow(dst)) fs.rmSync(f);
  }
  const copy = (from: string, to: string) =>
    fs.cpSync(from, to, { recursive: true, filter: (src) => !src.split(path.sep).includes('target') });
  copy(path.join(REPO_ROOT, 'agent-crate'), path.join(root, 'agent-crate'));
  const clientDir = path.join(root, 'clients', clientName);
  copy(path.join(REPO_ROOT, 'clients', clientName), clientDir);
  return { root, clientDir };
}

/**
 * Makes cargo build the fixture copy with v0 symbol names (nightly's default since 2025-11-21) on
 * any toolchain: a `.cargo/config.toml` in the copy, which cargo reads from the workspace root it
 * runs in. Every crate but the prebuilt std then gets `_R…` names. The copy's target/ must be one
 * of its own (the flags change every crate's fingerprint).
 */
export function useV0Mangling(clientDir: string): void {
  fs.mkdirSync(path.join(clientDir, '.cargo'), { recursive: true });
  fs.writeFileSync(path.join(clientDir, '.cargo', 'config.toml'), '[build]\nrustflags = ["-C", "symbol-mangling-version=v0"]\n');
}

/**
 * Makes cargo build the fixture copy with legacy symbol names (`_ZN…`) on any toolchain. Stable's
 * default needs nothing; a nightly that mangles with v0 by default (CI runs the e2e suite under
 * nightly) takes `-C symbol-mangling-version=legacy` only with `-Z unstable-options`. The app's
 * crates are then legacy over nightly's prebuilt v0 std.
 */
export function useLegacyMangling(clientDir: string): void {
  const vv = spawnSync('rustc', ['-vV'], { cwd: clientDir, encoding: 'utf8' }).stdout ?? '';
  const date = /commit-date: (\d{4}-\d\d-\d\d)/.exec(vv)?.[1];
  if (!/release: .*-nightly/.test(vv) || date === undefined || date < '2025-11-21') return;
  fs.mkdirSync(path.join(clientDir, '.cargo'), { recursive: true });
  fs.writeFileSync(
    path.join(clientDir, '.cargo', 'config.toml'),
    '[build]\nrustflags = ["-Z", "unstable-options", "-C", "symbol-mangling-version=legacy"]\n',
  );
}

/** A fresh copy of the counter's sources (and the agent crate it depends on) under `name`. */
export function prepareCounterFixture(name = 'subsecond-lsp-e2e'): CounterFixture {
  const { root, clientDir: counterDir } = prepareClientFixture('counter', name);
  return {
    root,
    counterDir,
    mainRs: path.join(counterDir, 'src', 'main.rs'),
    coreRs: path.join(counterDir, 'counter-core', 'src', 'lib.rs'),
  };
}

/** Parses the counter's `tick=… count=… tip=… core=… pid=…` line. */
export function parseTick(line: string): Tick | undefined {
  const m = /tick=(\d+) count=(\d+) tip=(\S+) core=(\S+) pid=(\d+)/.exec(line);
  if (!m) return undefined;
  return { tick: +m[1], count: +m[2], tip: m[3], core: m[4], pid: +m[5], line };
}

/** Tick lines among the server's log messages (the app's stdout is forwarded as `[app stdout] …`). */
export function ticksIn(logs: string[]): Tick[] {
  return logs
    .filter((l) => l.startsWith('[app stdout]'))
    .map(parseTick)
    .filter((t): t is Tick => !!t);
}
