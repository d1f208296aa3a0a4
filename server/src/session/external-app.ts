// An app that runs in a terminal we do not own: the editor's integrated terminal
// (`appTerminal: "editor"`, the `subsecond/runInTerminal` request) or one opened by a command
// prefix (`["tmux", "new-window"]`, `["kitty", "-e"]`). It is not our child, so a small shell
// wrapper writes its pid to a file and then `exec`s the app (same pid); from then on it is
// tracked by that pid: stopped with signals, its end seen by polling. Its stderr is also
// appended to the launch's log; its stdout belongs to the terminal it runs in.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { startTracked, killTree, trackPid } from '../support/process';
import type { AppExit } from './app-process';
import type { RunInTerminalRequest, RunInTerminalResult } from './observer';

export interface ExternalLaunch {
  exePath: string;
  /** Put before the executable (cargo's `target.<triple>.runner`); `exec` keeps the pid through it. */
  runner?: string[];
  cwd: string;
  env: Record<string, string>;
  /** Variables the app must not inherit (`env -u`). */
  unsetEnv?: string[];
  /** Where the wrapper appends the app's stderr (the launch's log file). */
  logPath: string;
  /** A scratch directory for the pid file. */
  runDir: string;
  title: string;
  /** "editor": ask the editor; otherwise the command prefix that opens a terminal. */
  how: 'editor' | string[];
  runInTerminal?: (request: RunInTerminalRequest) => Promise<RunInTerminalResult>;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  onExit: (exit: AppExit) => void;
}

// $1 cwd, $2 pid file, $3 log; then the program. `exec` keeps the pid that was written.
const WRAPPER =
  'cd "$1" || exit 127; printf "%s" "$$" > "$2.tmp" && mv "$2.tmp" "$2"; log="$3"; shift 3; ' +
  'exec "$@" 2> >(tee -a "$log" >&2)';

const POLL_MS = 200;

export class ExternalApp {
  private exited: AppExit | undefined;
  private stopRequested = false;
  private readonly exitWaiters: Array<(e: AppExit) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly untrack: () => void;
  readonly startedAt = Date.now();

  private constructor(
    readonly pid: number,
    private readonly onExit: (exit: AppExit) => void,
  ) {
    this.untrack = trackPid(pid);
    this.timer = setInterval(() => {
      if (!pidAlive(this.pid)) this.finish();
    }, POLL_MS);
  }

  /** Opens the terminal and waits for the app's pid; a string says why that failed. */
  static async launch(l: ExternalLaunch, timeoutMs = 15_000): Promise<ExternalApp | string> {
    fs.mkdirSync(l.runDir, { recursive: true });
    const pidFile = path.join(l.runDir, `app-${process.pid}-${Date.now()}.pid`);
    const envArgs = Object.entries(l.env).map(([k, v]) => `${k}=${v}`);
    // `env` carries the variables even where the terminal starts commands in its own
    // environment (a tmux server, an already running terminal).
    const unsetArgs = (l.unsetEnv ?? []).flatMap((name) => ['-u', name]);
    const args = ['env', ...unsetArgs, ...envArgs, 'bash', '-c', WRAPPER, 'subsecond-app', l.cwd, pidFile, l.logPath, ...(l.runner ?? []), l.exePath];
    let opener: ChildProcess | undefined;
    let openerFailed: string | undefined;
    if (l.how === 'editor') {
      if (!l.runInTerminal) return 'this editor cannot open a terminal for the app (it does not answer subsecond/runInTerminal)';
      try {
        await l.runInTerminal({ args, cwd: l.cwd, env: l.env, title: l.title });
      } catch (err) {
        return `the editor could not open a terminal for the app: ${(err as Error).message}`;
      }
    } else {
      const prefix = l.how;
      const [cmd, ...pre] = prefix;
      opener = startTracked(cmd, [...pre, ...args], { cwd: l.cwd, env: { ...process.env, ...l.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let said = '';
      for (const s of ['stdout', 'stderr'] as const)
        opener[s]?.on('data', (b: Buffer) => {
          said += b.toString('utf8');
          for (const line of b.toString('utf8').split('\n')) if (line) l.onLine('stderr', `[${cmd}] ${line}`);
        });
      opener.once('error', (err) => (openerFailed = `could not run ${cmd}: ${err.message}`));
      opener.once('exit', (code) => {
        if (code !== 0 && code !== null) openerFailed = `${prefix.join(' ')} exited with code ${code}${said.trim() ? `: ${said.trim().split('\n')[0]}` : ''}`;
      });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
      const pid = Number(text);
      if (text && Number.isInteger(pid) && pid > 0) {
        fs.rmSync(pidFile, { force: true });
        return new ExternalApp(pid, l.onExit);
      }
      if (openerFailed) return openerFailed;
      if (Date.now() > deadline) {
        if (opener) killTree(opener, 500);
        return `the terminal did not start the app within ${timeoutMs / 1000} s`;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get running(): boolean {
    return !this.exited;
  }

  /** SIGTERM, then SIGKILL after two seconds; resolves when the pid is gone. */
  stop(): Promise<AppExit> {
    if (this.exited) return Promise.resolve(this.exited);
    this.stopRequested = true;
    const done = new Promise<AppExit>((resolve) => this.exitWaiters.push(resolve));
    signal(this.pid, 'SIGTERM');
    const kill = setTimeout(() => {
      if (!this.exited) signal(this.pid, 'SIGKILL');
    }, 2000);
    kill.unref();
    return done;
  }

  private finish(): void {
    if (this.exited) return;
    if (this.timer) clearInterval(this.timer);
    this.untrack();
    // The exit code belongs to the terminal that ran it; we only see the pid go away.
    this.exited = { code: null, signal: null, requested: this.stopRequested };
    this.onExit(this.exited);
    for (const w of this.exitWaiters.splice(0)) w(this.exited);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Alive and not a zombie waiting for its parent (the terminal) to reap it. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust the signal check
  }
}
