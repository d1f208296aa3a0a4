// Watches the workspace for files changed outside the editor (git checkout, another editor, a
// formatter, the terminal mode): Rust sources, and whatever else the caller wants (manifests,
// lock file, cargo configs, files crates read at compile time — see build-inputs.ts). Ignores
// what source-paths.ts says is not source (target/, hidden directories, node_modules), so builds
// never echo; `.cargo/config.toml` directly under a root is the one hidden file it may report.
// It only reports paths; the session decides what a change means.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { watch, FSWatcher } from 'chokidar';
import { isCargoConfigPath, isSourcePathUnder } from '../workspace/source-paths';


export interface FileWatcherEvents {
  changed(file: string): void;
  deleted(file: string): void;
}

/**
 * chokidar drops a second change event of a file that comes within its throttle window (about
 * 50 ms) of the first: a change reported is looked at again this much later, and reported again if
 * the file changed since (a quick revert, a second write of a formatter).
 */
const RECHECK_MS = 150;

/** What a file's change looks like from outside: its modification time and size. */
function stamp(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'gone';
  }
}

export class RustFileWatcher {
  private readonly watcher: FSWatcher;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  private readonly readyPromise: Promise<void>;
  /** Files watched on request outside the roots' rules (compile-time inputs elsewhere). */
  private readonly extra = new Set<string>();

  /**
   * `wants(file)` decides which files below the roots are reported (default: `.rs` files). It is
   * asked again when `watchFiles` adds files, so its answer may grow over time.
   */
  constructor(
    roots: string[],
    events: FileWatcherEvents,
    debounceMs = 40,
    private readonly wants: (file: string) => boolean = (f) => f.endsWith('.rs'),
  ) {
    const inScope = (abs: string) =>
      this.extra.has(abs) || roots.some((r) => isSourcePathUnder(r, abs) || isCargoConfigPath(r, abs));
    this.watcher = watch(roots, {
      ignoreInitial: true,
      ignored: (p: string, stats?: { isFile(): boolean; isDirectory(): boolean }) => {
        const abs = path.resolve(p);
        // A root itself is never ignored; below it, judged relative to the root (a workspace
        // that itself lives under some `target/` or `.hidden/` directory still works).
        if (roots.some((r) => path.resolve(r) === abs) || this.extra.has(abs)) return false;
        if (stats?.isFile()) return !(inScope(abs) && this.wants(abs));
        // A directory (or a path not stat'ed yet) is judged as the place of a file inside it;
        // `.cargo/` directly under a root stays, for its config.
        if (roots.some((r) => path.resolve(r, '.cargo') === abs || isCargoConfigPath(r, abs))) return false;
        return !inScope(path.join(abs, 'x.rs'));
      },
    });
    // Editors often write a file in several steps; wait for the writes to settle.
    const later = (file: string, fn: () => void) => {
      clearTimeout(this.timers.get(file));
      this.timers.set(
        file,
        setTimeout(() => {
          this.timers.delete(file);
          fn();
        }, debounceMs),
      );
    };
    const report = (f: string, fn: (abs: string) => void) => {
      const abs = path.resolve(f);
      if (this.wants(abs)) later(abs, () => fn(abs));
    };
    const changed = (abs: string) => {
      const seen = stamp(abs);
      events.changed(abs);
      clearTimeout(this.rechecks.get(abs));
      this.rechecks.set(
        abs,
        setTimeout(() => {
          this.rechecks.delete(abs);
          const now = stamp(abs);
          if (now === seen) return;
          if (now === 'gone') events.deleted(abs);
          else changed(abs);
        }, RECHECK_MS),
      );
    };
    this.watcher.on('add', (f: string) => report(f, changed));
    this.watcher.on('change', (f: string) => report(f, changed));
    this.watcher.on('unlink', (f: string) => report(f, events.deleted));
    this.watcher.on('error', () => undefined); // a vanished directory is not worth crashing over
    this.readyPromise = new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Starts watching files `wants` did not want when the watcher started, or that lie outside the
   * roots (files crates read at compile time are known only after a build).
   */
  watchFiles(files: string[]): void {
    const fresh = files.map((f) => path.resolve(f)).filter((f) => !this.extra.has(f));
    if (fresh.length === 0) return;
    for (const f of fresh) this.extra.add(f);
    this.watcher.add(fresh);
  }

  async close(): Promise<void> {
    for (const t of [...this.timers.values(), ...this.rechecks.values()]) clearTimeout(t);
    this.timers.clear();
    this.rechecks.clear();
    await this.watcher.close();
  }
}
