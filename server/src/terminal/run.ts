// Terminal mode (`subsecond-lsp run`): the same session as in an editor, driven by the file
// watcher, reporting as readable lines. It owns argument parsing and printing, nothing else.
import * as path from 'node:path';
import { Session } from '../session/session';
import { defaultSettings, Settings } from '../session/settings';
import type { LogLevel, ProgressHandle, SessionObserver, SessionStatus, Problem } from '../session/observer';
import { stopAllProcesses } from '../support/process';

export interface RunArgs {
  manifestPath?: string;
  bin?: string;
  package?: string;
  verbose: boolean;
  cargoArgs: string[];
}

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

class TerminalObserver implements SessionObserver {
  problemsFor: (file: string) => Problem[] = () => [];
  private lastStatus = '';
  private readonly shown = new Map<string, string>();

  constructor(private readonly verbose: boolean, private readonly root: string) {}

  log(level: LogLevel, message: string): void {
    if (level === 'debug' && !this.verbose) return;
    if (level === 'info' && !this.verbose) return;
    const tag = level === 'error' ? color(31, 'error') : level === 'warn' ? color(33, 'warn') : color(2, level);
    process.stderr.write(`${tag} ${message}\n`);
  }

  notify(level: 'error' | 'warn' | 'info', message: string): void {
    const tag = level === 'error' ? color(31, '✗') : level === 'warn' ? color(33, '⚠') : color(36, 'ℹ');
    process.stdout.write(`${tag} ${message}\n`);
  }

  appOutput(stream: 'stdout' | 'stderr', line: string): void {
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
      if (text) process.stdout.write(text + '\n');
      else if (had) process.stdout.write(`${color(32, '✓')} ${shownPath(this.root, file)}: no more problems\n`);
    }
  }

  statusChanged(status: SessionStatus): void {
    if (status.message === this.lastStatus) return;
    this.lastStatus = status.message;
    process.stdout.write(`${color(1, '»')} ${status.message}\n`);
  }

  beginProgress(title: string): ProgressHandle {
    // The status line already says what is being built; progress details are for --verbose.
    this.log('debug', title);
    return {
      report: (m) => this.log('debug', `${title}: ${m}`),
      done: () => undefined,
    };
  }
}

/** A path as the user can find it: relative to the workspace when inside it, else absolute. */
export function shownPath(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}

export async function runTerminal(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`subsecond-lsp run: ${args}\nusage: subsecond-lsp run [--manifest-path PATH] [--bin NAME] [--package NAME] [--verbose] [-- CARGO_ARGS...]\n`);
    return 2;
  }
  const manifest = args.manifestPath ? path.resolve(args.manifestPath) : undefined;
  const root = manifest ? path.dirname(manifest) : process.cwd();
  const settings: Settings = {
    ...defaultSettings,
    manifestPath: manifest,
    bin: args.bin,
    package: args.package,
    cargoArgs: args.cargoArgs,
  };
  const observer = new TerminalObserver(args.verbose, root);
  const session = await Session.create(root, settings, observer);
  observer.problemsFor = (f) => session.problemsFor(f);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping…\n');
    await session.dispose();
    stopAllProcesses();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));
  await session.startWatching();
  const started = await session.startApp();
  if (!started.ok) {
    process.stderr.write(`${started.message}\n`);
    await session.dispose();
    return 1;
  }
  process.stdout.write(`watching for saves under ${root} (Ctrl-C to stop)\n`);
  return new Promise<number>(() => undefined); // runs until a signal
}
