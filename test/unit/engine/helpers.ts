// Shared helpers of the engine tests: temp dirs, compiling small C programs, running a process
// and waiting for its output lines, and copying the fixture workspace.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const FIXTURE_WS = path.join(REPO_ROOT, 'test', 'fixtures', 'engine', 'ws');

const tmpDirs: string[] = [];

export function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `subsecond-engine-${prefix}-`));
  tmpDirs.push(d);
  return d;
}

export function cleanupTmp(): void {
  if (process.env.KEEP_ENGINE_TMP) return;
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Compiles C source with cc; returns the output path. */
export function compileC(dir: string, name: string, source: string, flags: string[]): string {
  const src = path.join(dir, `${name}.c`);
  fs.writeFileSync(src, source);
  const out = path.join(dir, name);
  sh('cc', [...flags, '-o', out, src]);
  return out;
}

/** Copies the fixture workspace (never edited in place) into a fresh temp dir. */
export function copyFixture(prefix: string): string {
  const dir = path.join(tmpDir(prefix), 'ws');
  fs.cpSync(FIXTURE_WS, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}target`) });
  return dir;
}

/** Replaces the line holding `marker` (e.g. `// EDIT:tip_value`) with `replacement`. */
export function editMarked(file: string, marker: string, replacement: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not in ${file}`);
  lines[i] = replacement.includes(marker) ? replacement : `${replacement} ${marker}`;
  fs.writeFileSync(file, lines.join('\n'));
  return i + 1; // 1-based line number
}

export function fixtureCrates(): Record<string, string[]> {
  return { app: ['wslib'], wslib: [] };
}

/** A running process whose stdout lines are collected. */
export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  exited = false;

  constructor(cmd: string, args: string[] = [], env?: NodeJS.ProcessEnv) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let tail = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      const parts = (tail + d).split('\n');
      tail = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', () => undefined);
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  /** Waits for a line (after index `from`) matching `re`; generous default timeout, no timing asserts. */
  async waitFor(re: RegExp, from = 0, timeoutMs = 60000): Promise<{ line: string; index: number; match: RegExpExecArray }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        const m = re.exec(this.lines[i]);
        if (m) return { line: this.lines[i], index: i, match: m };
      }
      if (this.exited) throw new Error(`process exited before printing ${re}; last lines:\n${this.lines.slice(-5).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; last lines:\n${this.lines.slice(-5).join('\n')}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  stop(): void {
    if (this.exited) return;
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}

/** The fat build of the fixture workspace copied to `ws` (its `app` bin). */
export function fixtureFatBuildRequest(ws: string) {
  return {
    manifestPath: path.join(ws, 'Cargo.toml'),
    workspaceRoot: ws,
    targetDir: path.join(ws, 'target'),
    packageName: 'app',
    binName: 'app',
    workspaceCrates: fixtureCrates(),
    sessionDir: path.join(ws, 'target', 'subsecond-lsp', 'app'),
  };
}

/**
 * Sends a jump table to the fixture app (one JSON line), expects `applied`, then waits for the
 * first tick line that satisfies `pred`; returns that line.
 */
export async function applyAndWaitForTick(app: Proc, jumpTable: unknown, pred: (line: string) => boolean): Promise<string> {
  const from = app.lines.length;
  app.send(JSON.stringify(jumpTable));
  const applied = await app.waitFor(/^(applied|apply-failed)/, from);
  if (!/^applied \d+/.test(applied.line)) throw new Error(applied.line);
  for (let i = applied.index; ; ) {
    const hit = await app.waitFor(/^tick /, i);
    if (pred(hit.line)) return hit.line;
    i = hit.index + 1;
  }
}
