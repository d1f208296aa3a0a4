// One launched app process: start it with the devserver environment, stream its output line by
// line, and tell how it ended (exit code or signal, and whether that was asked for).
// It never decides what to do about a crash; the session does.
import { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { startTracked, killTree } from '../support/process';
import { DevServer, devserverEnv, newLaunchSecret } from '../devserver';

/** Tells the app's agent which process launched it, so it can exit when that process is gone. */
export const PARENT_PID_ENV = 'SUBSECOND_LSP_PARENT_PID';

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The session asked for this (stop or restart). */
  requested: boolean;
}

export interface AppLaunch {
  exePath: string;
  /** Put before the executable (cargo's `target.<triple>.runner`); it must exec the app in its own process. */
  runner?: string[];
  cwd: string;
  env: Record<string, string>;
  /** Variables the app must not inherit (nor get from the devserver environment). */
  unsetEnv?: string[];
  /** The devserver the app connects to: it gets the connection environment and a fresh launch secret. */
  devserver?: DevServer;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  onExit: (exit: AppExit) => void;
  /**
   * "inherit": the app gets this process's terminal (stdin and stdout; stderr still comes
   * through `onLine`, for the log) and stays in its foreground process group. Default: piped.
   */
  terminal?: 'piped' | 'inherit';
}

export class AppProcess {
  private readonly child: ChildProcess;
  private stopRequested = false;
  private exited: AppExit | undefined;
  private readonly exitWaiters: Array<(e: AppExit) => void> = [];
  readonly startedAt = Date.now();

  constructor(launch: AppLaunch) {
    const secret = launch.devserver ? newLaunchSecret() : undefined;
    const connection = launch.devserver ? devserverEnv(launch.devserver, secret) : {};
    const inherit = launch.terminal === 'inherit';
    const env: NodeJS.ProcessEnv = { ...process.env, ...launch.env, ...connection, [PARENT_PID_ENV]: String(process.pid) };
    for (const name of launch.unsetEnv ?? []) delete env[name];
    const [command, ...args] = [...(launch.runner ?? []), launch.exePath];
    this.child = startTracked(command, args, {
      cwd: launch.cwd,
      env,
      stdio: inherit ? ['inherit', 'inherit', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      detached: !inherit,
    });
    // Registered before the event loop turns: the app cannot have connected yet.
    if (launch.devserver && secret && this.child.pid !== undefined) launch.devserver.expectLaunch(this.child.pid, secret);
    for (const stream of ['stdout', 'stderr'] as const) {
      let tail = '';
      if (!this.child[stream]) continue; // inherited
      this.child[stream]!.on('data', (b: Buffer) => {
        const parts = (tail + b.toString('utf8')).split('\n');
        tail = parts.pop() ?? '';
        for (const p of parts) launch.onLine(stream, p);
      });
      this.child[stream]!.on('end', () => {
        if (tail) launch.onLine(stream, tail);
        tail = '';
      });
    }
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.exited) return;
      this.exited = { code, signal, requested: this.stopRequested };
      launch.onExit(this.exited);
      for (const w of this.exitWaiters.splice(0)) w(this.exited);
    };
    this.child.once('exit', finish);
    this.child.once('error', (err) => {
      launch.onLine('stderr', `could not start ${path.basename(launch.exePath)}: ${err.message}`);
      finish(127, null);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Stops the app (SIGTERM, then SIGKILL) and resolves when it is gone. */
  stop(): Promise<AppExit> {
    if (this.exited) return Promise.resolve(this.exited);
    this.stopRequested = true;
    const done = new Promise<AppExit>((resolve) => this.exitWaiters.push(resolve));
    killTree(this.child, 2000);
    return done;
  }
}

/** Signals that mean the process faulted by itself: only these can be blamed on a patch. */
const FAULTS: ReadonlySet<string> = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT']);

/**
 * What an unrequested exit says about patches: a fault soon after a patch is likely its doing;
 * a kill from outside (SIGKILL, SIGTERM, ...) or a normal exit is not blamed on anything.
 */
export function patchBlame(exit: AppExit, lastPatchAt: number | undefined, now: number, patchSentAt?: number): string {
  // A patch sent and not yet confirmed may already run (the jump table is taken before the
  // agent reports, and entry detours can take a second more, longer under emulation).
  if (patchSentAt !== undefined) {
    const sent = `${((now - patchSentAt) / 1000).toFixed(1)} s after a patch was sent (not confirmed: it may have been applied)`;
    if (exit.signal !== null && FAULTS.has(exit.signal)) return ` ${sent}: the patch may be the cause`;
    if (exit.signal !== null) return ` (a signal from outside the app, ${sent})`;
    return ` (${sent})`;
  }
  if (lastPatchAt === undefined) return '';
  const since = now - lastPatchAt;
  if (exit.signal !== null && FAULTS.has(exit.signal) && since < 10_000) {
    return ` ${(since / 1000).toFixed(1)} s after a patch was applied: the patch is the likely cause`;
  }
  if (exit.signal !== null && !FAULTS.has(exit.signal)) return ' (a signal from outside the app; patches had been applied earlier)';
  return ' (patches had been applied earlier)';
}

/** "exited with code 101" / "was killed by SIGSEGV (segmentation fault)". */
export function describeExit(exit: AppExit): string {
  if (exit.signal) {
    const meaning: Record<string, string> = {
      SIGSEGV: 'segmentation fault',
      SIGBUS: 'bus error',
      SIGILL: 'illegal instruction',
      SIGABRT: 'aborted',
      SIGKILL: 'killed',
      SIGFPE: 'arithmetic error',
    };
    return `was killed by ${exit.signal}${meaning[exit.signal] ? ` (${meaning[exit.signal]})` : ''}`;
  }
  return `exited with code ${exit.code}`;
}
