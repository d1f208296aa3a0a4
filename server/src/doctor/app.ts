// App checks, from `cargo metadata` and the app's sources: the agent (or dioxus-devtools) among
// the bin's dependencies and its connect call, debug assertions in the profile used, a hot entry,
// and no one-capture hot closure (the analysis' hot-closure-never-patched finding).
import { rustFilesUnder } from '../workspace/source-paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PatchabilityAnalyzer } from '../analysis';
import { BinTarget, parseMetadata, selectBin, WorkspaceModel } from '../workspace/cargo-workspace';
import { run } from '../support/process';
import { debugAssertions, debugInfo, profileOf } from './cargo-profile';
import type { DoctorCheck, DoctorOptions } from './types';
import { dioxusAppOf, dioxusVersionVerdict, webBuildProblem } from '../dioxus';

/** How the app talks to a devserver, as its dependency graph says. */
export type Integration =
  | { kind: 'agent' | 'devtools'; direct: true }
  | { kind: 'agent' | 'devtools'; direct: false; via: string }
  | { kind: 'none' };

const AGENT = 'subsecond-agent';
const DEVTOOLS = 'dioxus-devtools';

interface RawDep { name: string; kind?: string | null; rename?: string | null }
interface RawPackage { id: string; name: string; dependencies: RawDep[] }
interface RawNode { id: string; deps?: Array<{ name: string; pkg: string; dep_kinds?: Array<{ kind: string | null }> }> }
interface RawMetadata { packages: RawPackage[]; resolve?: { nodes: RawNode[] } | null; workspace_members: string[] }

export interface AppContext {
  model: WorkspaceModel;
  bin: BinTarget;
  raw: RawMetadata;
  /** The full dependency graph was resolved (else only declared dependencies are known). */
  resolved: boolean;
}

/** cargo metadata (with the dependency graph when cargo can resolve it offline, else without), and the bin to run. */
export async function loadApp(manifestPath: string, opts: DoctorOptions): Promise<{ check: DoctorCheck; app?: AppContext }> {
  const title = 'cargo workspace';
  const cwd = path.dirname(manifestPath);
  const base = ['metadata', '--format-version', '1', '--manifest-path', manifestPath];
  let r = await run('cargo', [...base, '--offline'], { cwd, signal: AbortSignal.timeout(120_000) });
  let resolved = r.code === 0;
  if (!resolved && !r.spawnError) {
    r = await run('cargo', [...base, '--no-deps'], { cwd, signal: AbortSignal.timeout(60_000) });
  }
  if (r.spawnError || r.code !== 0) {
    const why = r.spawnError ? 'cargo was not found on PATH' : r.stderr.trim().split('\n').filter((l) => l.trim()).slice(0, 4).join(' / ');
    return { check: { id: 'workspace', title, status: 'fail', detail: `cargo metadata failed for ${manifestPath}: ${why}`, fix: 'fix the manifest (`cargo check` shows the problem) or pass --manifest-path' } };
  }
  let raw: RawMetadata;
  let model: WorkspaceModel;
  try {
    raw = JSON.parse(r.stdout) as RawMetadata;
    model = parseMetadata(r.stdout, manifestPath);
  } catch (err) {
    return { check: { id: 'workspace', title, status: 'fail', detail: `cargo metadata printed invalid JSON: ${(err as Error).message}` } };
  }
  const bin = selectBin(model, opts);
  if (typeof bin === 'string') return { check: { id: 'workspace', title, status: 'fail', detail: bin, fix: 'pass --bin (terminal) or set "bin" (editor settings)' } };
  return {
    check: { id: 'workspace', title, status: 'ok', detail: `bin \`${bin.binName}\` of package \`${bin.packageName}\`${resolved ? '' : ' (dependency graph not resolved offline: only declared dependencies checked)'}` },
    app: { model, bin, raw, resolved },
  };
}

/** The agent or dioxus-devtools: declared by the bin's package, or reached through one of its dependencies. */
export function findIntegration(app: AppContext): Integration {
  const pkg = app.raw.packages.find((p) => app.raw.workspace_members.includes(p.id) && p.name === app.bin.packageName);
  if (!pkg) return { kind: 'none' };
  const normal = pkg.dependencies.filter((d) => !d.kind);
  if (normal.some((d) => d.name === AGENT)) return { kind: 'agent', direct: true };
  if (normal.some((d) => d.name === DEVTOOLS)) return { kind: 'devtools', direct: true };
  const nodes = new Map((app.raw.resolve?.nodes ?? []).map((n) => [n.id, n]));
  const names = new Map(app.raw.packages.map((p) => [p.id, p.name]));
  const root = nodes.get(pkg.id);
  if (!root) return { kind: 'none' };
  // breadth-first over normal dependencies, remembering which direct dependency led there
  const queue: Array<{ id: string; via: string }> = [];
  const seen = new Set<string>([pkg.id]);
  const normalEdges = (n: RawNode) => (n.deps ?? []).filter((d) => !d.dep_kinds || d.dep_kinds.some((k) => k.kind === null));
  for (const d of normalEdges(root)) if (!seen.has(d.pkg)) seen.add(d.pkg), queue.push({ id: d.pkg, via: names.get(d.pkg) ?? d.name });
  while (queue.length) {
    const cur = queue.shift()!;
    const name = names.get(cur.id);
    if (name === AGENT || name === DEVTOOLS) return { kind: name === AGENT ? 'agent' : 'devtools', direct: false, via: cur.via };
    const node = nodes.get(cur.id);
    if (node) for (const d of normalEdges(node)) if (!seen.has(d.pkg)) seen.add(d.pkg), queue.push({ id: d.pkg, via: cur.via });
  }
  return { kind: 'none' };
}

export function integrationCheck(app: AppContext, integration: Integration): DoctorCheck {
  const title = 'agent dependency';
  switch (integration.kind) {
    case 'none':
      return {
        id: 'agent-dependency',
        title,
        status: 'fail',
        detail: `neither ${AGENT} nor ${DEVTOOLS} is a dependency of \`${app.bin.packageName}\`${app.resolved ? '' : ' (declared dependencies only)'}: patches have nobody to apply them`,
        fix: `\`cargo add subsecond subsecond-agent\` in ${path.dirname(app.model.package(app.bin.packageName)?.manifestPath ?? app.model.manifestPath)}, then call \`subsecond_agent::connect();\` first thing in main`,
      };
    case 'agent':
    case 'devtools': {
      const name = integration.kind === 'agent' ? AGENT : DEVTOOLS;
      return { id: 'agent-dependency', title, status: 'ok', detail: integration.direct ? `${name} (direct dependency)` : `${name}, through \`${integration.via}\`` };
    }
  }
}

/** Rust files of a package: its own directory, minus target/ and nested packages. */
function packageFiles(model: WorkspaceModel, packageName: string): string[] {
  const pkg = model.package(packageName);
  if (!pkg) return [];
  return workspaceFiles(model).filter((f) => model.packageForFile(f)?.name === packageName);
}

/** Every .rs file of the workspace members (target/, node_modules/ and hidden directories skipped). */
export function workspaceFiles(model: WorkspaceModel): string[] {
  return rustFilesUnder(model.packages.map((p) => p.rootDir), 12).filter((f) => model.packageForFile(f));
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

const AGENT_CONNECT = /\bsubsecond_agent\s*::\s*connect\s*\(/;
const AGENT_IMPORTED = /\buse\s+subsecond_agent\s*::\s*(?:connect\b|\{[^}]*\bconnect\b)/;
const DEVTOOLS_CONNECT = /\b(?:connect_subsecond|dioxus_devtools\s*::\s*connect)\s*\(/;

export function connectCheck(app: AppContext, integration: Integration): DoctorCheck {
  const title = 'connect() called';
  if (integration.kind === 'none') return { id: 'agent-connect', title, status: 'skip', detail: 'no agent to connect (see above)' };
  if (!integration.direct) return { id: 'agent-connect', title, status: 'skip', detail: `\`${integration.via}\` is expected to connect ${integration.kind === 'agent' ? AGENT : DEVTOOLS} itself (not checked)` };
  const files = packageFiles(app.model, app.bin.packageName);
  for (const f of files) {
    let text: string;
    try {
      text = withoutComments(fs.readFileSync(f, 'utf8'));
    } catch {
      continue;
    }
    const found = integration.kind === 'agent'
      ? AGENT_CONNECT.test(text) || (AGENT_IMPORTED.test(text) && /(?<![:\w.])connect\s*\(/.test(text))
      : DEVTOOLS_CONNECT.test(text);
    if (found) return { id: 'agent-connect', title, status: 'ok', detail: `in ${path.relative(app.model.workspaceRoot, f)}` };
  }
  return {
    id: 'agent-connect',
    title,
    status: 'fail',
    detail: `no ${integration.kind === 'agent' ? '`subsecond_agent::connect()`' : '`dioxus_devtools::connect_subsecond()`'} call in the sources of \`${app.bin.packageName}\``,
    fix: integration.kind === 'agent' ? 'call `subsecond_agent::connect();` first thing in `main`' : 'call `dioxus_devtools::connect_subsecond();` first thing in `main`',
  };
}

/** A web (wasm) build is dx's to serve: said plainly rather than left to fail in the build. Undefined when native. */
export function webTargetCheck(app: AppContext, cargoArgs: string[]): DoctorCheck | undefined {
  const problem = webBuildProblem(app.model.workspaceRoot, cargoArgs);
  if (!problem) return undefined;
  return {
    id: 'web-target',
    title: 'native target',
    status: 'fail',
    detail: problem,
    fix: 'run `dx serve` for the web build; subsecond-lsp patches a desktop (native) build of the app',
  };
}

/** Which Dioxus version the lock file has, and whether subsecond-lsp patches it (dioxus/versions.ts). Undefined when not a Dioxus app. */
export function dioxusVersionCheck(workspaceRoot: string): DoctorCheck | undefined {
  const dioxus = dioxusAppOf(workspaceRoot);
  const verdict = dioxus && dioxusVersionVerdict(dioxus);
  if (!verdict) return undefined;
  const status = verdict.level === 'tested' ? 'ok' : verdict.level === 'untested' ? 'warn' : 'fail';
  return {
    id: 'dioxus-version',
    title: 'Dioxus version',
    status,
    detail: verdict.message,
    ...(status === 'ok' ? {} : { fix: verdict.level === 'unsupported' ? 'upgrade to Dioxus 0.7: `dioxus = "0.7"` in Cargo.toml' : `pin a tested version (\`dioxus = "=0.7.10"\`), or try it and restart the app if a change does not show` }),
  };
}

export function debugAssertionsCheck(app: AppContext, cargoArgs: string[]): DoctorCheck {
  const profile = profileOf(cargoArgs);
  const setting = debugAssertions(profile, app.model.workspaceRoot);
  const title = 'debug assertions';
  if (setting.value) return { id: 'debug-assertions', title, status: 'ok', detail: `on in profile \`${profile}\` (${setting.source})` };
  return {
    id: 'debug-assertions',
    title,
    status: 'fail',
    detail: `off in profile \`${profile}\` (${setting.source}): subsecond and the agent do nothing without them, so no patch would ever apply`,
    fix: profile === 'dev' ? 'remove `debug-assertions = false` from [profile.dev]' : `build with the dev profile (drop ${cargoArgs.includes('--release') || cargoArgs.includes('-r') ? '--release' : '--profile'}) or set \`debug-assertions = true\` in [profile.${profile}]`,
  };
}

/**
 * Whether the layout gate (layout-gate/) can verify patches: it reads type layouts from the
 * executable's debug info, which limited or split debuginfo leaves out. Without them patches still
 * apply on the source verdict alone, and the status says their layouts are unverified.
 */
export function debugInfoCheck(app: AppContext, cargoArgs: string[]): DoctorCheck {
  const profile = profileOf(cargoArgs);
  const setting = debugInfo(profile, app.model.workspaceRoot);
  const title = 'debug info for the layout gate';
  if (setting.types) return { id: 'debug-info', title, status: 'ok', detail: `types described (\`${setting.value}\` in profile \`${profile}\`, ${setting.source}): every patch's compiled layouts are verified` };
  return {
    id: 'debug-info',
    title,
    status: 'warn',
    detail:
      `\`${setting.value}\` in profile \`${profile}\` (${setting.source}) leaves the types out of the executable's debug info: ` +
      "the compiled layouts of patches cannot be verified (the source verdict stands alone; the status says \"layouts unverified\")",
    fix: `set \`debug = "full"\` (and no \`split-debuginfo\`) in [profile.${profile}]`,
  };
}

/** The hot-entry and hot-closure checks, from the analysis of every workspace source file. */
export async function sourceChecks(app: AppContext, integration: Integration): Promise<DoctorCheck[]> {
  const files = workspaceFiles(app.model);
  const analyzer = await PatchabilityAnalyzer.create({ crateOf: (f) => app.model.packageForFile(f)?.name });
  const entries = new Set<string>();
  const closures: string[] = [];
  try {
    for (const f of files) {
      let text: string;
      try {
        text = fs.readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      analyzer.update(f, text);
      for (const e of analyzer.hotEntries(f)) entries.add(e);
      for (const finding of analyzer.findingsFor(f))
        if (finding.code === 'hot-closure-never-patched')
          closures.push(`${path.relative(app.model.workspaceRoot, f)}:${finding.range.start.line + 1}:${finding.range.start.character + 1} in \`${finding.item}\``);
    }
  } finally {
    analyzer.dispose();
  }
  const out: DoctorCheck[] = [];
  if (entries.size) {
    const names = [...entries];
    out.push({ id: 'hot-entry', title: 'hot entry', status: 'ok', detail: `${names.slice(0, 5).map((n) => `\`${n}\``).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}` });
  } else if (dioxusAppOf(app.model.workspaceRoot)) {
    // dioxus-core renders every component through subsecond::HotFn (properties.rs): the
    // components are the hot entries, nothing for the user to add.
    out.push({ id: 'hot-entry', title: 'hot entry', status: 'ok', detail: 'Dioxus renders every component through `subsecond::HotFn`' });
  } else {
    const frameworkCalls = integration.kind !== 'none' && !(integration.kind === 'agent' && integration.direct);
    out.push({
      id: 'hot-entry',
      title: 'hot entry',
      status: frameworkCalls ? 'warn' : 'fail',
      detail: `no \`subsecond::call\`, \`HotFn::current\` or \`subsecond_agent::hot!\` naming a function in the workspace's sources${frameworkCalls ? ' (your framework may make its own hot calls)' : ': patched code is only reached through a hot entry'}`,
      fix: 'run the per-frame (or per-request) work through one: `loop { subsecond::call(|| tick(&mut state, &mut frame)); }`',
    });
  }
  out.push(
    closures.length
      ? {
          id: 'hot-closure',
          title: 'hot closures',
          status: 'fail',
          detail: `${closures.length} closure${closures.length === 1 ? '' : 's'} passed to a hot call capture${closures.length === 1 ? 's' : ''} exactly one pointer, which subsecond 0.7 takes for a fn pointer and never patches: ${closures.join('; ')}`,
          fix: 'capture a second value (`|| tick(&mut state, &mut frame)`) or pass a fn item (`subsecond::call(tick)`)',
        }
      : { id: 'hot-closure', title: 'hot closures', status: 'ok', detail: 'no closure that subsecond would never patch' },
  );
  return out;
}
