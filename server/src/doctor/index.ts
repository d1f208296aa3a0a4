// `subsecond-lsp doctor` and the `subsecond.doctor` command: the checks a user needs before the
// first patch, each with a fix. Depends on workspace, engine (the linker choice) and analysis;
// never on the session or the LSP library. Checks never throw: a failure is a result.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findManifest } from '../workspace/cargo-workspace';
import { connectCheck, debugAssertionsCheck, debugInfoCheck, dioxusVersionCheck, findIntegration, integrationCheck, loadApp, sourceChecks, webTargetCheck, workspaceFiles } from './app';
import { targetChecks } from './target';
import { symbolNamesCheck } from './symbol-names';
import { hotStateCheck } from './hot-state';
import { cToolchain, patchLinker, platformCheck, rustToolchain, scratchDir } from './toolchain';
import type { DoctorCheck, DoctorOptions, DoctorReport } from './types';

export type { CheckStatus, DoctorCheck, DoctorOptions, DoctorReport } from './types';

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const scratch = scratchDir();
  try {
    const rust = await rustToolchain(opts.cwd);
    checks.push(platformCheck(rust.info.host), rust.check);
    const c = await cToolchain(scratch);
    checks.push(c.check, await patchLinker(scratch, rust.info, c.driver, c.object));

    const manifestPath = opts.manifestPath ? path.resolve(opts.cwd, opts.manifestPath) : findManifest(opts.cwd);
    if (!manifestPath || !fs.existsSync(manifestPath)) {
      checks.push({
        id: 'workspace',
        title: 'cargo workspace',
        status: 'fail',
        detail: manifestPath ? `no Cargo.toml at ${manifestPath}` : `no Cargo.toml at or above ${opts.cwd}`,
        fix: 'run doctor inside your app, or pass --manifest-path path/to/Cargo.toml',
      });
      return report(checks, manifestPath);
    }
    const loaded = await loadApp(manifestPath, opts);
    checks.push(loaded.check);
    if (!loaded.app) return report(checks, manifestPath);
    checks.push(...(await targetChecks(loaded.app.model.workspaceRoot, opts.cargoArgs, scratch)));
    const integration = findIntegration(loaded.app);
    checks.push(
      integrationCheck(loaded.app, integration),
      connectCheck(loaded.app, integration),
      debugAssertionsCheck(loaded.app, opts.cargoArgs),
      debugInfoCheck(loaded.app, opts.cargoArgs),
      symbolNamesCheck(loaded.app),
    );
    const web = webTargetCheck(loaded.app, opts.cargoArgs);
    if (web) checks.push(web);
    const dioxus = dioxusVersionCheck(loaded.app.model.workspaceRoot);
    if (dioxus) checks.push(dioxus);
    checks.push(...(await sourceChecks(loaded.app, integration)));
    const hotState = hotStateCheck(loaded.app.model.workspaceRoot, workspaceFiles(loaded.app.model));
    if (hotState) checks.push(hotState);
    return report(checks, manifestPath);
  } catch (err) {
    checks.push({ id: 'internal', title: 'doctor', status: 'fail', detail: `internal error: ${(err as Error).message}` });
    return report(checks, undefined);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function report(checks: DoctorCheck[], manifestPath: string | undefined): DoctorReport {
  return { manifestPath, checks, ok: !checks.some((c) => c.status === 'fail') };
}

const MARK = { ok: '✓', warn: '!', fail: '✗', skip: '-' } as const;

/** Plain text, one check a line, its fix indented below. */
export function formatDoctorReport(r: DoctorReport, color: (code: number, s: string) => string = (_, s) => s): string {
  const width = Math.max(...r.checks.map((c) => c.title.length));
  const tint = { ok: 32, warn: 33, fail: 31, skip: 2 } as const;
  const lines = [`subsecond-lsp doctor${r.manifestPath ? ` — ${r.manifestPath}` : ''}`, ''];
  for (const c of r.checks) {
    lines.push(`${color(tint[c.status], MARK[c.status])} ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`  ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  const failed = r.checks.filter((c) => c.status === 'fail').length;
  const warned = r.checks.filter((c) => c.status === 'warn').length;
  lines.push('', failed ? `${failed} problem${failed === 1 ? '' : 's'} to fix before hot-patching works${warned ? ` (and ${warned} warning${warned === 1 ? '' : 's'})` : ''}` : `ready to hot-patch${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`);
  return lines.join('\n') + '\n';
}
