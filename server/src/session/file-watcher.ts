// Watches the workspace for files changed outside the editor (git checkout, another editor, a
// formatter, the terminal mode): Rust sources, and whatever else the caller wants (manifests,
// lock file, cargo configs, files crates read at compile time — see build-inputs.ts). Ignores
// what source-paths.ts says is not source (target/, hidden directories, node_modules), so builds
// never echo; `.cargo/config.toml` directly under a root is the one hidden file it may report.
// It only reports paths; the session decides what a change means.
import * as path from 'node:path';
import { watch, FSWatcher } from 'chokidar';
import { isCargoConfigPath, isSourcePathUnder } from '../workspace/source-paths';


export interface FileWatcherEvents {
  changed(file: string): void;
  deleted(file: string): void;
}

export class RustFileWatcher {
  private readonly watcher: FSWatcher;
  private readonly timers = new Map<string, NodeJS.Timeout>();
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
    this.watcher.on('add', (f: string) => report(f, events.changed));
    this.watcher.on('change', (f: string) => report(f, events.changed));
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
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.watcher.close();
  }
}
