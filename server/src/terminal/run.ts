// Terminal mode (`subsecond-lsp run`): the same session as in an editor, driven by the file
// watcher, reporting as readable lines. It owns argument parsing and printing, nothing else.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session } from '../session/session';
import { defaultSettings, Settings } from '../session/settings';
import type { AppExitInfo, LogLevel, ProgressHandle, SessionObserver, SessionStatus, Problem, UserAction } from '../session/observer';
import { stopAllProcesses } from '../support/process';

export interface RunArgs {
  manifestPath?: string;
  bin?: string;
  package?: string;
  verbose: boolean;
  cargoArgs: string[];
  /** "inherit": the app gets this terminal; "piped": its output is printed as `app │` lines. */
  appTerminal?: 'inherit' | 'piped';
}

export const RUN_USAGE =
  'subsecond-lsp run [--manifest-path PATH] [--bin NAME] [--package NAME] [--app-terminal inherit|piped] [--verbose] [-- CARGO_ARGS...]';

export function parseRunArgs(argv: string[]): RunArgs | string {
  const out: RunArgs = { verbose: false, cargoArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--manifest-path') out.manifestPath = value();
      else if (a.startsWith('--manifest-path=')) out.manifestPath = a.slice(16);
      else if (a === '--bin') out.bin = value();
      else if (a.startsWith('--bin=')) out.bin = a.slice(6);
      else if (a === '--package' || a === '-p') out.package = value();
      else if (a === '--verbose' || a === '-v') out.verbose = true;
      else if (a === '--app-terminal' || a.startsWith('--app-terminal=')) {
        const v = a.includes('=') ? a.slice(15) : value();
        if (v !== 'inherit' && v !== 'piped') return `--app-terminal must be "inherit" or "piped", not "${v}"`;
        out.appTerminal = v;
      }
      else if (a === '--') {
        out.cargoArgs = argv.slice(i + 1);
        break;
      } else return `unknown argument "${a}"`;
    } catch (err) {
      return (err as Error).message;
    }
  }
  return out;
}

const color = process.stdout.isTTY ? (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m` : (_: number, s: string) => s;
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Prints the session's messages between the app's lines, except while the app owns the terminal
 * (`appTerminal: "inherit"`): then nothing may touch the screen, so every message goes only to
 * the messages file named at start, and a summary is printed when the app gives the terminal back.
 */
class TerminalObserver implements SessionObserver {
  problemsFor: (file: string) => Problem[] = () => [];
  /** Called when the terminal comes back (keys, summary, quitting after a clean exit). */
  onHandover: (event: 'taken' | 'released', exit?: AppExitInfo) => void = () => undefined;
  /** Are the r/p/q keys read right now? */
  keysActive = () => false;
  private lastStatus = '';
  private readonly shown = new Map<string, string>();
  private owned = false;
  /** Quitting: the messages file still gets everything, the terminal nothing more. */
  quiet = false;
  private heldBack: string[] = [];
  private heldCount = 0;
  private readonly messagesFd: number | undefined;

  constructor(
    private readonly verbose: boolean,
    private readonly root: string,
    readonly messagesFile: string,
    private readonly inherit: boolean,
  ) {
    try {
      this.messagesFd = fs.openSync(messagesFile, 'a');
    } catch {
      this.messagesFd = undefined;
    }
  }

  /** One message line: to the messages file always, to the terminal unless the app owns it. */
  private out(text: string, stream: 'stdout' | 'stderr' = 'stdout', important = false): void {
    if (this.messagesFd !== undefined) {
      try {
        fs.writeSync(this.messagesFd, `${new Date().toISOString().slice(11, 23)} ${plain(text)}\n`);
      } catch {
        /* keep going */
      }
    }
    if (this.owned || this.quiet) {
      if (this.quiet) return;
      this.heldCount++;
      if (important) this.heldBack.push(text);
      if (this.heldBack.length > 12) this.heldBack.shift();
      return;
    }
    (stream === 'stderr' ? process.stderr : process.stdout).write(`${text}\n`);
  }

  log(level: LogLevel, message: string): void {
    const wanted = this.verbose || level === 'error' || level === 'warn';
    if (!wanted && this.messagesFd === undefined) return;
    const tag = level === 'error' ? color(31, 'error') : level === 'warn' ? color(33, 'warn') : color(2, level);
    if (wanted) this.out(`${tag} ${message}`, 'stderr');
    else if (this.messagesFd !== undefined && level !== 'debug') {
      try {
        fs.writeSync(this.messagesFd, `${new Date().toISOString().slice(11, 23)} ${level} ${message}\n`);
      } catch {
        /* keep going */
      }
    }
  }

  notify(level: 'error' | 'warn' | 'info', message: string): void {
    if (message === this.lastStatus) return; // the status line just said it
    const tag = level === 'error' ? color(31, '✗') : level === 'warn' ? color(33, '⚠') : color(36, 'ℹ');
    this.out(`${tag} ${message}`, 'stdout', true);
  }

  appOutput(stream: 'stdout' | 'stderr', line: string): void {
    // With the terminal handed over, only stderr comes through here (piped, so it is in the
    // app's log too): it goes on to the terminal, as it would have without us.
    if (this.inherit) {
      process.stderr.write(`${line}\n`);
      return;
    }
    process.stdout.write(`${color(2, stream === 'stdout' ? 'app │' : 'app ┃')} ${line}\n`);
  }

  problemsChanged(files: string[]): void {
    for (const file of files) {
      const problems = this.problemsFor(file);
      const text = problems
        .map((p) => {
          const where = `${shownPath(this.root, p.file)}:${p.range.start.line + 1}:${p.range.start.character + 1}`;
          const tag = p.severity === 'error' ? color(31, 'error') : p.severity === 'warning' ? color(33, 'warning') : color(36, 'info');
          return `${tag}[${p.code}] ${where}: ${p.message.split('\n')[0]}`;
        })
        .join('\n');
      if (this.shown.get(file) === text) continue;
      const had = !!this.shown.get(file);
      this.shown.set(file, text);
      if (text) this.out(text, 'stdout', true);
      else if (had) this.out(`${color(32, '✓')} ${shownPath(this.root, file)}: no more problems`);
    }
  }

  statusChanged(status: SessionStatus): void {
    if (status.message === this.lastStatus) return;
    this.lastStatus = status.message;
    this.out(`${color(1, '»')} ${status.message}`);
  }

  beginProgress(title: string): ProgressHandle {
    // The status line already says what is being built; progress details are for --verbose.
    this.log('debug', title);
    return {
      report: (m) => this.log('debug', `${title}: ${m}`),
      done: () => undefined,
    };
  }

  actionHint(action: UserAction): string {
    const pid = process.pid;
    // Keys work whenever the app does not hold the terminal; the signals always do.
    const keysOr = (key: string, signal: string) =>
      this.inherit ? `press ${key} once the app has left the terminal, or send ${signal} (kill -${signal.slice(3)} ${pid})` : process.stdin.isTTY ? `press ${key}` : `send ${signal} (kill -${signal.slice(3)} ${pid})`;
    switch (action) {
      case 'start':
        return this.inherit || process.stdin.isTTY ? 'press r' : `send SIGUSR1 (kill -USR1 ${pid})`;
      case 'restart':
        return keysOr('r', 'SIGUSR1');
      case 'patch':
        return keysOr('p', 'SIGUSR2');
      case 'stop':
      case 'quit':
        return process.stdin.isTTY ? 'press q or Ctrl-C' : `send SIGINT (kill -INT ${pid})`;
      case 'terminal':
        return 'run subsecond-lsp run in a terminal (stdin and stdout a TTY): it hands its terminal to the app';
    }
  }

  terminalHandover(event: 'taken' | 'released', exit?: AppExitInfo): void {
    if (event === 'taken') {
      this.owned = true;
      this.onHandover('taken');
      return;
    }
    if (!this.owned) return;
    this.owned = false;
    this.onHandover('released', exit);
  }

  /** What happened while the app had the terminal (printed when it gives it back). */
  summary(): string[] {
    if (this.heldCount === 0) return [];
    const lines = [`${color(1, '»')} while the app had the terminal: ${this.heldCount} message${this.heldCount === 1 ? '' : 's'} (all in ${this.messagesFile})`];
    for (const h of this.heldBack) lines.push(`  ${h}`);
    lines.push(`  now: ${this.lastStatus}`);
    this.heldBack = [];
    this.heldCount = 0;
    return lines;
  }

  printNow(text: string): void {
    this.out(text);
  }
}

/** The terminal's settings before the app changed them (`stty -g`), to put back after a crash. */
function saveTerminal(): string | undefined {
  if (!process.stdin.isTTY) return undefined;
  const r = spawnSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout.toString().trim() : undefined;
}

/** An app killed by a signal (or by us) leaves raw mode and the alternate screen behind. */
function restoreTerminal(saved: string | undefined, screen: boolean): void {
  if (saved) spawnSync('stty', [saved], { stdio: ['inherit', 'ignore', 'ignore'] });
  if (screen && process.stdout.isTTY) process.stdout.write('\x1b[?1049l\x1b[?25h\x1b[0m\r\n');
}

/** A path as the user can find it: relative to the workspace when inside it, else absolute. */
export function shownPath(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}

export async function runTerminal(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`subsecond-lsp run: ${args}\nusage: ${RUN_USAGE}\n`);
    return 2;
  }
  const manifest = args.manifestPath ? path.resolve(args.manifestPath) : undefined;
  const root = manifest ? path.dirname(manifest) : process.cwd();
  const hasTerminal = !!process.stdin.isTTY && !!process.stdout.isTTY;
  const inherit = args.appTerminal === 'inherit' || (args.appTerminal === undefined && hasTerminal);
  if (args.appTerminal === 'inherit' && !hasTerminal) {
    process.stderr.write('subsecond-lsp run: --app-terminal inherit needs stdin and stdout to be a terminal\n');
    return 2;
  }
  const settings: Settings = {
    ...defaultSettings,
    manifestPath: manifest,
    bin: args.bin,
    package: args.package,
    cargoArgs: args.cargoArgs,
    appTerminal: inherit ? 'inherit' : 'none',
  };
  const messagesFile = path.join(os.tmpdir(), `subsecond-lsp-run-${process.pid}.log`);
  const observer = new TerminalObserver(args.verbose, root, messagesFile, inherit);
  const keysWanted = !!process.stdin.isTTY;
  observer.printNow(
    inherit
      ? `subsecond-lsp: the app gets this terminal; while it has it, messages go to ${messagesFile}` +
          ` (restart: kill -USR1 ${process.pid}, patch now: kill -USR2 ${process.pid}, quit: kill ${process.pid})`
      : `subsecond-lsp: messages are also written to ${messagesFile}`,
  );
  const session = await Session.create(root, settings, observer);
  observer.problemsFor = (f) => session.problemsFor(f);
  const savedTerminal = inherit ? saveTerminal() : undefined;

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    setKeys(false);
    if (!observer.quiet) observer.printNow('stopping…');
    observer.quiet = true;
    await session.dispose();
    stopAllProcesses();
    process.exit(code);
  };

  // Keys, while nobody else reads the terminal.
  let keysOn = false;
  const onKey = (b: Buffer) => {
    const k = b.toString('utf8');
    if (k === 'q' || k === '\x03') void stop(k === '\x03' ? 130 : 0);
    else if (k === 'r') void command(session.status().app === 'running' || session.status().app === 'starting' ? 'restart' : 'start');
    else if (k === 'p') void command('patch');
  };
  const setKeys = (on: boolean) => {
    if (!keysWanted || on === keysOn) return;
    keysOn = on;
    if (on) {
      process.stdin.setRawMode(true);
      process.stdin.on('data', onKey);
      process.stdin.resume();
    } else {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  };
  observer.keysActive = () => keysOn;
  const command = async (what: 'start' | 'restart' | 'patch') => {
    const r = what === 'patch' ? await session.patchNow() : what === 'restart' ? await session.restartApp() : await session.startApp();
    // Always answer a key or a signal, even when the status line already says the same.
    observer.printNow(`${r.ok ? color(32, '✓') : color(31, '✗')} ${what}: ${r.message}`);
  };
  observer.onHandover = (event, exit) => {
    if (event === 'taken') {
      setKeys(false); // the app reads the terminal now
      return;
    }
    restoreTerminal(savedTerminal, !!exit && (exit.requested || exit.signal !== null));
    for (const line of observer.summary()) process.stdout.write(`${line}\n`);
    if (exit && exit.code === 0 && !exit.requested) {
      // The app quit (its own q key): so does subsecond-lsp, as under `cargo run`.
      observer.quiet = true;
      void stop(0);
      return;
    }
    if (!stopping) setKeys(true);
  };

  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));
  process.on('SIGUSR1', () => void command(session.status().app === 'running' || session.status().app === 'starting' ? 'restart' : 'start'));
  process.on('SIGUSR2', () => void command('patch'));
  await session.startWatching();
  const started = await session.startApp();
  if (!started.ok) {
    process.stderr.write(`${started.message}\n`);
    await session.dispose();
    return 1;
  }
  if (!inherit) {
    observer.printNow(`watching for saves under ${root} (${keysWanted ? 'keys: r restart · p patch now · q quit' : `Ctrl-C to stop; restart: kill -USR1 ${process.pid}, patch now: kill -USR2 ${process.pid}`})`);
    setKeys(true);
  } else observer.printNow(`watching for saves under ${root}`);
  return new Promise<number>(() => undefined); // runs until a signal, a key or the app's own exit
}
