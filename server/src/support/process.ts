// Every external process the server starts goes through here, so that shutdown (or a crash of
// the server itself) can stop them all: cargo, rustc, the linker, and the user's app.
// This module never interprets output; callers decide what a process's output means.
import { spawn, spawnSync, ChildProcess, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

const live = new Set<ChildProcess>();
/** Processes we launched that are not our children (an app in the editor's terminal, in tmux). */
const livePids = new Set<number>();

/** Tracks a process by pid until the returned function is called (it ended). */
export function trackPid(pid: number): () => void {
  livePids.add(pid);
  return () => livePids.delete(pid);
}

function killPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

export interface RunOptions {
  cwd?: string;
  /** Complete environment for the child (not merged with process.env). */
  env?: NodeJS.ProcessEnv;
  /** Text written to stdin, which is then closed. */
  input?: string;
  /** Called with each complete line of stderr as it arrives (progress reporting). */
  onStderrLine?: (line: string) => void;
  /** Called with each complete line of stdout as it arrives. */
  onStdoutLine?: (line: string) => void;
  signal?: AbortSignal;
  /** Nice value for the child (background work: a speculative build); unset keeps ours. */
  priority?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES...). */
  spawnError?: Error;
}

let setprivPath: string | null | undefined;

/** util-linux's setpriv, if it is installed and knows --pdeathsig (util-linux ≥ 2.33). */
function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = null;
    if (process.platform === 'linux') {
      for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
        const candidate = `${dir || '.'}/setpriv`;
        try {
          fs.accessSync(candidate, fs.constants.X_OK);
        } catch {
          continue;
        }
        const help = spawnSync(candidate, ['--help'], { encoding: 'utf8', timeout: 5000 });
        if (`${help.stdout}${help.stderr}`.includes('--pdeathsig')) setprivPath = candidate;
        break;
      }
    }
  }
  return setprivPath ?? undefined;
}

/**
 * How a long-lived child is started so that it dies with this server even when the server is
 * SIGKILLed (no exit handler runs then): Linux's parent-death signal, set by setpriv right before
 * it execs the program (same pid). Without setpriv the agent's own check is the fallback.
 */
export function parentDeathWrapped(command: string, args: string[]): { command: string; args: string[]; guarded: boolean } {
  const wrapper = setpriv();
  if (!wrapper) return { command, args, guarded: false };
  return { command: wrapper, args: ['--pdeathsig', 'KILL', '--', command, ...args], guarded: true };
}

/**
 * Starts a long-lived process (an app) and tracks it until it exits; it dies with the server. It
 * gets its own process group unless `detached: false` is asked for: an app that is handed the
 * terminal must stay in the terminal's foreground group, or reading it or setting raw mode would
 * stop it (SIGTTIN/SIGTTOU).
 */
export function startTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const launch = parentDeathWrapped(command, args);
  const child = spawn(launch.command, launch.args, { ...options, detached: options.detached ?? true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Runs a command to completion, collecting its output. Never throws for a failing command. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // own process group: killing it also stops rustc/cc started by cargo
      });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: '', stderr: '', spawnError: err as Error });
      return;
    }
    live.add(child);
    if (options.priority !== undefined && child.pid !== undefined) {
      try {
        os.setPriority(child.pid, options.priority); // before rustc starts its own children
      } catch {
        /* not allowed: it runs at our priority */
      }
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outTail = '';
    let errTail = '';
    const lines = (chunk: string, tail: string, cb?: (l: string) => void): string => {
      if (!cb) return '';
      const text = tail + chunk;
      const parts = text.split('\n');
      const rest = parts.pop() ?? '';
      for (const p of parts) cb(p);
      return rest;
    };
    child.stdout!.on('data', (b: Buffer) => {
      out.push(b);
      outTail = lines(b.toString('utf8'), outTail, options.onStdoutLine);
    });
    child.stderr!.on('data', (b: Buffer) => {
      err.push(b);
      errTail = lines(b.toString('utf8'), errTail, options.onStderrLine);
    });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    const onAbort = () => killTree(child);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('close', (code, signal) => {
      live.delete(child);
      options.signal?.removeEventListener('abort', onAbort);
      if (outTail && options.onStdoutLine) options.onStdoutLine(outTail);
      if (errTail && options.onStderrLine) options.onStderrLine(errTail);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        spawnError,
      });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

/** Sends SIGTERM to a child's whole process group (then SIGKILL if it lingers). */
export function killTree(child: ChildProcess, graceMs = 1500): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  send('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) send('SIGKILL');
  }, graceMs);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/** Stops every process started through this module. Used on shutdown and exit. */
export function stopAllProcesses(): void {
  for (const child of [...live]) killTree(child, 500);
  for (const pid of livePids) killPid(pid, 'SIGTERM');
}

/** Synchronous last-resort kill for process 'exit' handlers (no timers run there). */
export function killAllNow(): void {
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(child.pid, 'SIGKILL'); // not a group leader (an app given the terminal)
      } catch {
        /* gone */
      }
    }
  }
  live.clear();
  for (const pid of livePids) killPid(pid, 'SIGKILL');
  livePids.clear();
}

export function trackedCount(): number {
  return live.size;
}
