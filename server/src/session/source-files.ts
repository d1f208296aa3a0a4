// The workspace's Rust sources as the session sees them: which files are tracked, reading them
// within the size limit, the last content seen per file (a save seen twice counts once), and
// code fingerprints of what is on disk now. It only reads; it never writes a source file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { WorkspaceModel } from '../workspace/cargo-workspace';
import { codeFingerprint } from './code-fingerprint';
import { fingerprintOf } from './build-inputs';
import { isSourcePathUnder, rustFilesUnder } from '../workspace/source-paths';
import type { SessionObserver } from './observer';
import type { Settings } from './settings';

/**
 * A file modified this recently is re-read even when its size and mtime match the cache: file
 * timestamps are coarse (a few ms), so two quick saves of the same length can share both.
 */
const RECENT_WRITE_MS = 2000;

interface CachedFingerprint {
  mtimeMs: number;
  size: number;
  fingerprint: string;
}

export class SourceFiles {
  private readonly tooLarge = new Set<string>();
  /** Hash of the last content seen per file. */
  private readonly lastSeen = new Map<string, string>();
  private readonly fingerprintCache = new Map<string, CachedFingerprint>();
  /** Unsaved buffers that stand for their files (live edits, `patchOn: "pause"`). */
  private readonly overlay = new Map<string, string>();

  constructor(
    private readonly rootDir: string,
    private readonly workspace: () => WorkspaceModel | undefined,
    private readonly settings: () => Settings,
    private readonly observer: SessionObserver,
    /** Files crates read at compile time (data files): their content is part of what the app runs. */
    private readonly compileTimeInputs: () => string[] = () => [],
  ) {}

  /** Directories holding the workspace's sources (its packages, or the root without cargo). */
  roots(): string[] {
    const ws = this.workspace();
    return ws ? [...new Set(ws.packages.map((p) => p.rootDir))] : [this.rootDir];
  }

  /** Every Rust source file of the workspace's packages. */
  list(): string[] {
    return rustFilesUnder(this.roots());
  }

  /** Is this a file the session analyses (a Rust file inside the workspace, not in target/)? */
  isTracked(file: string): boolean {
    if (!file.endsWith('.rs')) return false;
    const ws = this.workspace();
    const roots = ws ? [ws.workspaceRoot, ...ws.packages.map((p) => p.rootDir)] : [this.rootDir];
    return roots.some((r) => isSourcePathUnder(r, file));
  }

  /** The file's text, or undefined when unreadable or over `maxFileBytes` (said once per file). */
  readIfSmall(file: string): string | undefined {
    const limit = this.settings().maxFileBytes;
    try {
      const st = fs.statSync(file);
      if (st.size > limit) {
        if (!this.tooLarge.has(file)) {
          this.tooLarge.add(file);
          this.sayTooLarge(file, st.size, limit);
        }
        return undefined;
      }
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Reports (once) that a file's text is too large to analyse. */
  tooLargeText(file: string, text: string): boolean {
    const limit = this.settings().maxFileBytes;
    if (text.length <= limit) return false;
    if (!this.tooLarge.has(file)) {
      this.tooLarge.add(file);
      this.sayTooLarge(file, text.length, limit);
    }
    return true;
  }

  private sayTooLarge(file: string, size: number, limit: number): void {
    this.observer.notify(
      'warn',
      `${path.basename(file)} is ${(size / 1048576).toFixed(1)} MB: too large for patchability analysis (limit ${(limit / 1048576).toFixed(1)} MB); it is skipped`,
    );
  }

  /** Records the content seen for a file; true when it is the same as the last content seen. */
  noteContent(file: string, content: string): boolean {
    const hash = createHash('sha1').update(content).digest('hex');
    const repeated = this.lastSeen.get(file) === hash;
    this.lastSeen.set(file, hash);
    return repeated;
  }

  /** Was this exact content the last one seen for the file? */
  isLastSeen(file: string, content: string): boolean {
    return this.lastSeen.get(file) === createHash('sha1').update(content).digest('hex');
  }

  /**
   * Lets an unsaved buffer stand for its file in everything that asks what the app should run
   * (fingerprints, `currentText`); undefined gives the file back to the disk. The disk itself is
   * never written.
   */
  setOverlay(file: string, text: string | undefined): void {
    if (text === undefined) this.overlay.delete(file);
    else this.overlay.set(file, text);
  }

  /** Does an unsaved buffer stand for this file? */
  hasOverlay(file: string): boolean {
    return this.overlay.has(file);
  }

  /** The buffers standing for their files (a copy). */
  overlays(): Map<string, string> {
    return new Map(this.overlay);
  }

  /** The file's content as the app should run it: its live-edit buffer, else the disk. */
  currentText(file: string): string | undefined {
    return this.overlay.get(file) ?? this.readIfSmall(file);
  }

  /**
   * A save's content is the truth for the file's fingerprint: the patch decision never trusts a
   * stale cached one. Without a running app nothing needs it yet (fingerprinted from disk later).
   */
  noteSaved(file: string, content: string, appRunning: boolean): void {
    this.fingerprintCache.delete(file);
    if (!appRunning) return;
    try {
      const st = fs.statSync(file);
      this.fingerprintCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, fingerprint: codeFingerprint(content) });
    } catch {
      /* gone: re-read at patch time */
    }
  }

  /**
   * Code fingerprints of the workspace's files as they are on disk now (a live-edit buffer stands
   * for its file). A file is re-read when its stat changed or it was written in the last couple of
   * seconds; `texts` receives what was read.
   */
  fingerprints(texts?: Map<string, string>): Map<string, string> {
    const out = new Map<string, string>();
    const now = Date.now();
    for (const f of [...this.list(), ...this.compileTimeInputs()]) {
      const buffer = this.overlay.get(f);
      if (buffer !== undefined) {
        texts?.set(f, buffer);
        out.set(f, fingerprintOf(f, buffer));
        continue;
      }
      let st: fs.Stats;
      try {
        st = fs.statSync(f);
      } catch {
        continue;
      }
      const cached = this.fingerprintCache.get(f);
      const recent = now - st.mtimeMs < RECENT_WRITE_MS;
      if (cached && !recent && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
        out.set(f, cached.fingerprint);
        continue;
      }
      const t = this.readIfSmall(f);
      if (t === undefined) continue;
      texts?.set(f, t);
      const fingerprint = fingerprintOf(f, t);
      this.fingerprintCache.set(f, { mtimeMs: st.mtimeMs, size: st.size, fingerprint });
      out.set(f, fingerprint);
    }
    return out;
  }

  /** Fingerprints of the given texts (the baseline of a fresh build). */
  static fingerprintsOf(texts: Map<string, string>): Map<string, string> {
    return new Map([...texts].map(([f, t]) => [f, codeFingerprint(t)]));
  }
}
