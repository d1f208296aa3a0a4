// A pseudo-terminal for tests (test/support/pty-run.py, Python's pty module): runs a command as
// a user's terminal would and records what it draws (raw bytes, escape sequences included);
// `type` sends keys.
import { spawn, ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './lsp-client';
import { pollUntil } from './processes';

export const PTY_RUN = path.join(REPO_ROOT, 'test', 'support', 'pty-run.py');

export class PtySession {
  readonly process: ChildProcess;
  /** Everything drawn so far (escape sequences included). */
  screen = '';
  exitCode: number | null | undefined;

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; rows?: number; cols?: number } = {}) {
    this.process = spawn('python3', [PTY_RUN, String(options.rows ?? 30), String(options.cols ?? 100), '--', ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stdout!.setEncoding('utf8'); // a box-drawing char may span two reads
    this.process.stdout!.on('data', (t: string) => (this.screen += t));
    this.process.stderr!.on('data', (b: Buffer) => (this.screen += b.toString('utf8')));
    this.process.once('exit', (code) => (this.exitCode = code));
  }

  type(keys: string): void {
    this.process.stdin!.write(keys);
  }

  /** The screen output without escape sequences (for error messages). */
  text(): string {
    // eslint-disable-next-line no-control-regex
    return this.screen.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\x1b[()][0-9A-Za-z]/g, '');
  }

  waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 180_000): Promise<T> {
    return pollUntil(what, check, timeoutMs, () => `screen (escape sequences removed), last 3000 chars:\n${this.text().slice(-3000)}`);
  }

  waitExit(timeoutMs = 30_000): Promise<number | null> {
    return this.waitFor('the terminal to close', () => this.exitCode !== undefined && { code: this.exitCode }, timeoutMs).then((r) => r.code);
  }

  kill(): void {
    if (this.process.exitCode === null) this.process.kill('SIGKILL');
  }
}
