// A Dioxus app's asset files (what its `asset!()` calls name), watched while it runs. A change is
// not a build input (manganis reads the file at run time, from the sources: dioxus/launch-env.ts)
// so it needs no build: the app is told, as dx tells it, with a HotReload frame naming the asset,
// and the desktop renderer re-fetches the page's stylesheets. Only stylesheets reload in place;
// for any other asset we say it shows after a restart rather than stay silent.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { watch, FSWatcher } from 'chokidar';
import { assetCallsIn, assetFile, dioxusAppOf, reloadsInPlace } from '../dioxus';
import type { WorkspaceModel } from '../workspace/cargo-workspace';
import type { AppLifecycle, RunningApp } from './app-lifecycle';
import type { SessionObserver } from './observer';
import type { SourceFiles } from './source-files';
import type { StatusBoard } from './status-board';

export interface DioxusAssetDeps {
  lifecycle: AppLifecycle;
  workspace: () => WorkspaceModel | undefined;
  files: SourceFiles;
  status: StatusBoard;
  observer: SessionObserver;
}

export class DioxusAssets {
  private watcher: FSWatcher | undefined;
  /** Absolute file → the path as the app names it (`/assets/main.css`). */
  private named = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private watchedFor: number | undefined;

  constructor(private readonly deps: DioxusAssetDeps) {}

  /** The app connected: watch the asset files its package's sources name (a no-op for other apps). */
  appConnected(app: RunningApp): void {
    const ws = this.deps.workspace();
    if (!ws || this.watchedFor === app.pid) return;
    if (!dioxusAppOf(ws.workspaceRoot)?.assets) return;
    const pkgDir = ws.package(app.bin.packageName)?.rootDir;
    if (!pkgDir) return;
    const named = new Map<string, string>();
    for (const f of this.deps.files.list()) {
      if (ws.packageForFile(f)?.name !== app.bin.packageName) continue;
      const text = this.deps.files.readIfSmall(f);
      if (text === undefined) continue;
      for (const written of assetCallsIn(text)) {
        const file = assetFile(pkgDir, written);
        if (fs.existsSync(file)) named.set(file, `/${path.relative(pkgDir, file).split(path.sep).join('/')}`);
      }
    }
    void this.close();
    this.watchedFor = app.pid;
    this.named = named;
    if (named.size === 0) return;
    this.watcher = watch([...named.keys()], { ignoreInitial: true, awaitWriteFinish: false });
    const changed = (file: string) => {
      const abs = path.resolve(file);
      clearTimeout(this.timers.get(abs));
      // Editors write in several steps; wait for the writes to settle.
      this.timers.set(abs, setTimeout(() => {
        this.timers.delete(abs);
        this.assetChanged(abs);
      }, 40));
    };
    this.watcher.on('change', changed).on('add', changed);
    this.deps.observer.log('info', `watching ${named.size} asset file(s) of ${app.bin.binName}: ${[...named.values()].join(', ')}`);
  }

  private assetChanged(file: string): void {
    const { lifecycle, status, observer } = this.deps;
    const app = lifecycle.app;
    const name = this.named.get(file);
    if (!name || !app || app.pid !== this.watchedFor) return;
    const base = path.basename(file);
    if (!reloadsInPlace(file)) {
      const message = `${base} changed: the running app reloads only stylesheets in place; ${base} shows after a restart`;
      status.set(undefined, undefined, message);
      observer.notify('warn', message);
      return;
    }
    const sent = lifecycle.devServer?.sendAssetReload(app.pid, [name]) ?? false;
    const message = sent
      ? `🎨 ${base} changed: the window was told to reload its stylesheets (no build; sent to a dx-compatible client, which does not report back)`
      : `${base} changed but ${app.bin.binName} (pid ${app.pid}) is not connected: it shows after a restart`;
    status.set(undefined, undefined, message);
    observer.notify(sent ? 'info' : 'warn', message);
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const w = this.watcher;
    this.watcher = undefined;
    this.watchedFor = undefined;
    await w?.close().catch(() => undefined);
  }
}
