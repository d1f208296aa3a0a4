// Watches the workspace for Rust files changed outside the editor (git checkout, another editor,
// a formatter, the terminal mode). Ignores what source-paths.ts says is not source (target/,
// hidden directories, node_modules), so builds never echo.
// It only reports paths; the session decides what a change means.
import * as path from 'node:path';
import { watch, FSWatcher } from 'chokidar';
import { isSourcePathUnder } from './source-paths';


export interface FileWatcherEvents {
  changed(file: string): void;
  deleted(file: string): void;
}

export class RustFileWatcher {
  private readonly watcher: FSWatcher;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readyPromise: Promise<void>;

  constructor(roots: string[], events: FileWatcherEvents, debounceMs = 40) {
    this.watcher = watch(roots, {
      ignoreInitial: true,
      ignored: (p: string, stats?: { isFile(): boolean }) => {
        const abs = path.resolve(p);
        // A root itself is never ignored; below it, judged relative to the root (a workspace
        // that itself lives under some `target/` or `.hidden/` directory still works).
        if (roots.some((r) => path.resolve(r) === abs)) return false;
        const isFile = !!stats?.isFile();
        // A directory is judged as the place of a file inside it.
        const probe = isFile ? abs : path.join(abs, 'x.rs');
        if (!roots.some((r) => isSourcePathUnder(r, probe))) return true;
        return isFile && !p.endsWith('.rs');
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
    this.watcher.on('add', (f: string) => f.endsWith('.rs') && later(f, () => events.changed(path.resolve(f))));
    this.watcher.on('change', (f: string) => f.endsWith('.rs') && later(f, () => events.changed(path.resolve(f))));
    this.watcher.on('unlink', (f: string) => f.endsWith('.rs') && later(f, () => events.deleted(path.resolve(f))));
    this.watcher.on('error', () => undefined); // a vanished directory is not worth crashing over
    this.readyPromise = new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.watcher.close();
  }
}
