// engine/fat-build.ts — the fat build: one `cargo rustc` that compiles the workspace through the
// recorder and links the tip through our shim, then a private copy of the executable and its
// symbol table read once.
//
// Why `cargo rustc … -- -C linker=<shim>`: flags after `--` apply to the tip crate only, so the
// user's RUSTFLAGS and .cargo/config stay untouched and registry dependencies keep their cached
// builds (a RUSTFLAGS change would rebuild every crate; `target.<triple>.linker` would also catch
// build scripts). The tip's link is the only one that goes through the shim.
//
// Every workspace crate must pass through the recorder on each fat build, or a later patch could
// not rebuild it: we delete the cargo fingerprints of workspace members (as dx does), which makes
// cargo recompile them (incrementally, so it is cheap).
//
// Never imports the LSP library or the devserver.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../support/process';
import { isError, stripAnsi, summarizeErrors, toDiagnostic } from './diagnostics';
import {
  clearRecords, ENV_FAT_LINK_RECORD, ENV_LINK_MODE, ENV_OBJDIR, ENV_RECORD_DIR, ENV_SHIM_PATH, installShims,
  readFatLinkRecord, readRecords, selectRecords,
} from './recorder';
import { FatSymbols, SymbolError } from './symbols';
import type { FatBuild, FatBuildRequest, FatBuildResult, RustcDiagnostic } from './types';

export function crateNameOf(name: string): string {
  return name.replace(/-/g, '_');
}

/** The `<target-dir>[/<triple>]/<profile-dir>` cargo builds into for these extra args. */
export function profileDirFor(targetDir: string, extraCargoArgs: string[] = [], configuredTarget?: string): string {
  let profile = 'dev';
  // `build.target` in cargo's config puts the build under <target-dir>/<triple> as --target does
  let triple: string | undefined = configuredTarget;
  for (let i = 0; i < extraCargoArgs.length; i++) {
    const a = extraCargoArgs[i];
    if (a === '--') break;
    if (a === '--release' || a === '-r') profile = 'release';
    else if (a === '--profile' && i + 1 < extraCargoArgs.length) profile = extraCargoArgs[++i];
    else if (a.startsWith('--profile=')) profile = a.slice(10);
    else if (a === '--target' && i + 1 < extraCargoArgs.length) triple = extraCargoArgs[++i];
    else if (a.startsWith('--target=')) triple = a.slice(9);
  }
  const dir = profile === 'dev' || profile === 'test' ? 'debug' : profile === 'bench' ? 'release' : profile;
  return triple ? path.join(targetDir, triple, dir) : path.join(targetDir, dir);
}

/**
 * Deletes cargo's fingerprints of the given packages/crates so cargo recompiles them through the
 * recorder. Fingerprint directories are named `<package>-<16 hex>`.
 */
export function bustFingerprints(profileDir: string, crateNames: Iterable<string>): string[] {
  const names = new Set([...crateNames].map(crateNameOf));
  const fpDir = path.join(profileDir, '.fingerprint');
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(fpDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = /^(.*)-[0-9a-f]{16}$/.exec(e);
    if (!m || !names.has(crateNameOf(m[1]))) continue;
    fs.rmSync(path.join(fpDir, e), { recursive: true, force: true });
    removed.push(e);
  }
  return removed;
}

function fail(message: string, diagnostics: RustcDiagnostic[] = []): FatBuildResult {
  return { ok: false, message, diagnostics };
}

export async function fatBuild(req: FatBuildRequest): Promise<FatBuildResult> {
  const t0 = performance.now();
  if (!fs.existsSync(req.manifestPath)) return fail(`manifest not found: ${req.manifestPath}`);
  try {
    fs.mkdirSync(req.sessionDir, { recursive: true });
  } catch (e) {
    return fail(`cannot create the session directory ${req.sessionDir}: ${(e as Error).message}`);
  }
  const shims = installShims(req.sessionDir);
  clearRecords(shims.recordDir);

  const tipCrate = crateNameOf(req.binName);
  const extra = req.extraCargoArgs ?? [];
  const dashdash = extra.indexOf('--');
  const cargoExtra = dashdash >= 0 ? extra.slice(0, dashdash) : extra;
  const rustcExtra = dashdash >= 0 ? extra.slice(dashdash + 1) : [];
  bustFingerprints(profileDirFor(req.targetDir, cargoExtra, req.target), [...Object.keys(req.workspaceCrates), req.packageName, tipCrate]);

  const args = [
    'rustc',
    '--manifest-path', req.manifestPath,
    '-p', req.packageSpec ?? req.packageName,
    '--bin', req.binName,
    '--message-format=json',
    ...cargoExtra,
    '--',
    ...rustcExtra,
    '-C', `linker=${shims.linkShim}`,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[ENV_LINK_MODE];
  delete env[ENV_OBJDIR];
  env.RUSTC_WORKSPACE_WRAPPER = shims.recorder;
  env[ENV_RECORD_DIR] = shims.recordDir;
  env[ENV_FAT_LINK_RECORD] = shims.fatLinkRecord;
  env[ENV_SHIM_PATH] = shims.linkShim;

  const diagnostics: RustcDiagnostic[] = [];
  const buildScripts: FatBuild['buildScripts'] = [];
  let executable: string | undefined;
  const stderrLines: string[] = [];
  const onStdout = (line: string) => {
    if (!line.startsWith('{')) return;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (j.reason === 'compiler-message' && j.message && typeof j.message === 'object') {
      // cargo runs rustc in the workspace root for members; other paths are absolute already
      diagnostics.push(toDiagnostic(j.message as Record<string, unknown>, req.workspaceRoot));
    } else if (j.reason === 'build-script-executed' && typeof j.out_dir === 'string' && typeof j.package_id === 'string') {
      // Cargo reports fresh build scripts too; `output` (next to `out/`) holds their cargo: lines.
      buildScripts.push({ packageId: j.package_id, outputFile: path.join(path.dirname(j.out_dir), 'output') });
    } else if (j.reason === 'compiler-artifact') {
      const target = j.target as { name?: string; kind?: string[] } | undefined;
      if (target?.name === req.binName && target.kind?.includes('bin') && typeof j.executable === 'string') executable = j.executable;
    }
  };
  const r = await run('cargo', args, {
    cwd: req.workspaceRoot,
    env,
    signal: req.signal,
    onStdoutLine: onStdout,
    onStderrLine: (l) => {
      stderrLines.push(l);
      req.onLine?.(stripAnsi(l));
    },
  });
  if (r.spawnError) {
    const code = (r.spawnError as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'cargo was not found on PATH (install Rust: https://rustup.rs)' : `cannot run cargo: ${r.spawnError.message}`);
  }
  if (req.signal?.aborted) return fail('fat build cancelled');
  if (r.code !== 0) {
    const errs = diagnostics.filter(isError);
    // The caller says "fat build failed"; the message is only what went wrong.
    if (errs.length > 0) return fail(summarizeErrors(errs, []), diagnostics);
    // cargo's own errors (manifest, resolution) are plain text on stderr
    const firstErr = stderrLines.findIndex((l) => /^\s*error/.test(stripAnsi(l)));
    const text = (firstErr >= 0 ? stderrLines.slice(firstErr) : stderrLines.slice(-10)).map(stripAnsi).join('\n').trim();
    return fail(`cargo failed (exit ${r.code ?? r.signal}): ${text || 'no output'}`, diagnostics);
  }

  const link = readFatLinkRecord(shims.fatLinkRecord);
  if (!link) {
    return fail(`cargo finished but the tip \`${req.binName}\` was not linked through subsecond-lsp's linker shim (is \`${req.binName}\` a bin target of \`${req.packageName}\`?)`, diagnostics);
  }
  const linkedRlibs = new Set(link.args.filter((a) => a.endsWith('.rlib')).map((a) => path.resolve(link.cwd, a)));
  const records = selectRecords(readRecords(shims.recordDir), linkedRlibs);
  if (!records[`${tipCrate}.bin`]) return fail(`no rustc call was recorded for the tip crate \`${tipCrate}\``, diagnostics);

  // The linked output (deps/<bin>-<hash>); target/<profile>/<bin> is a hard link to it.
  const oIdx = link.args.lastIndexOf('-o');
  const linked = oIdx >= 0 ? path.resolve(link.cwd, link.args[oIdx + 1]) : executable;
  const source = executable && fs.existsSync(executable) ? executable : linked;
  if (!source || !fs.existsSync(source)) return fail(`the fat executable was not produced (expected ${source ?? req.binName})`, diagnostics);

  // Our own copy: cargo and the thin replays must never change the file the app runs from.
  const runDir = path.join(req.sessionDir, 'run');
  fs.mkdirSync(runDir, { recursive: true });
  const exePath = path.join(runDir, req.binName);
  const tmp = `${exePath}.${process.pid}.tmp`;
  fs.copyFileSync(source, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, exePath); // rename, not overwrite: the previous copy may be running

  let symbols: FatSymbols;
  try {
    symbols = FatSymbols.fromFile(exePath);
  } catch (e) {
    if (e instanceof SymbolError) return fail(e.message, diagnostics);
    throw e;
  }

  const build: FatBuild = {
    exePath,
    arch: symbols.arch,
    tipCrate,
    packageName: req.packageName,
    binName: req.binName,
    workspaceRoot: req.workspaceRoot,
    targetDir: req.targetDir,
    sessionDir: req.sessionDir,
    workspaceCrates: req.workspaceCrates,
    records,
    link,
    symbols,
    diagnostics,
    cargoArgs: [...extra],
    buildScripts,
  };
  // Patches of an earlier fat build are useless now; their objects only take space.
  fs.rmSync(path.join(req.sessionDir, 'objs'), { recursive: true, force: true });
  fs.rmSync(path.join(req.sessionDir, 'work'), { recursive: true, force: true });
  return { ok: true, build, ms: Math.round(performance.now() - t0) };
}
