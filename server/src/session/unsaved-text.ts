// Unsaved text: what the session does with the editor's buffers between saves. When typing
// pauses, the buffers that differ from the disk are judged as if saved (their findings show on
// them), then either built ahead of the save (speculation.ts; `patchOn: "save"`) or, with
// `patchOn: "pause"` (live edits), made to stand for their files and patched like a save. The
// disk is never written. Terminal mode has no buffers: none of this runs there.
import * as path from 'node:path';
import { EditorBuffers } from './editor-buffers';
import type { ProblemBoard } from './problem-board';
import type { SourceFiles } from './source-files';
import type { BufferVerdict, Speculator } from './speculation';
import type { SessionObserver } from './observer';
import type { Settings } from './settings';

export interface UnsavedTextDeps {
  files: SourceFiles;
  problems: ProblemBoard;
  speculator: Speculator;
  observer: SessionObserver;
  settings: () => Settings;
  /** Judges a file's content for real (the analysis then holds it) and publishes the verdict. */
  judge: (file: string, text: string) => void;
  /** Asks for a patch of the current state. */
  schedule: () => void;
  /** Is a patch build running? */
  busy: () => boolean;
}

export class UnsavedText {
  private readonly buffers: EditorBuffers;

  constructor(private readonly deps: UnsavedTextDeps) {
    this.buffers = new EditorBuffers(() => deps.settings().pauseMs, () => this.typingPaused());
  }

  /** A tracked file's buffer changed (or opened): typing has not paused yet. */
  changed(file: string, text: string): void {
    this.deps.speculator.bufferChanged(file, text);
    this.buffers.changed(file, text);
  }

  /** The editor closed a buffer: its file is the disk's again (its unsaved text is dropped). */
  closed(file: string): void {
    const { files, problems, speculator } = this.deps;
    if (!this.buffers.has(file)) return;
    this.buffers.closed(file);
    if (problems.setPreview(file, undefined)) problems.publishFiles([file]);
    const disk = files.readIfSmall(file);
    if (disk !== undefined) speculator.bufferChanged(file, disk);
    if (files.overlays().has(file)) this.giveBackToDisk([file]);
  }

  /** A file was saved: the disk holds its text now, which the analysis judges for real. */
  saved(file: string): void {
    this.deps.problems.setPreview(file, undefined);
    this.deps.files.setOverlay(file, undefined);
  }

  settingsChanged(before: Settings, now: Settings): void {
    if (before.patchOn === 'pause' && now.patchOn !== 'pause') this.giveBackToDisk([...this.deps.files.overlays().keys()]);
    if (!now.speculate) this.deps.speculator.cancel('speculation turned off');
  }

  dispose(): void {
    this.buffers.dispose();
  }

  /** Typing paused: judge the unsaved buffers, then build ahead of the save or patch them live. */
  private typingPaused(): void {
    const { files, speculator, settings, busy } = this.deps;
    const unsaved = this.buffers.unsaved((f) => files.readIfSmall(f));
    if (settings().patchOn !== 'pause' && busy()) return this.buffers.arm(); // after the running patch
    const verdict = speculator.judge(unsaved);
    if (settings().patchOn === 'pause') return this.liveEdit(unsaved, verdict);
    speculator.speculate(unsaved, verdict);
  }

  /**
   * Live edits: cleanly parsing buffers stand for their files and are patched like a save; a
   * buffer back at the disk's text gives its file back.
   */
  private liveEdit(unsaved: Map<string, string>, verdict: BufferVerdict): void {
    const { files, problems, observer, judge } = this.deps;
    const held = [...verdict.unparsed, ...verdict.unknown];
    if (held.length) {
      const why = verdict.unparsed.length ? 'does not parse' : 'is new (save it first)';
      observer.log('info', `live edit held: ${held.map((f) => path.basename(f)).join(', ')} ${why}`);
      return;
    }
    let changed = this.giveBackToDisk([...files.overlays().keys()].filter((f) => !unsaved.has(f)), false);
    for (const [f, text] of unsaved) {
      files.setOverlay(f, text);
      problems.setPreview(f, undefined); // the analysis holds this text now
      if (!files.isLastSeen(f, text)) {
        judge(f, text);
        changed = true;
      }
    }
    problems.publish();
    if (changed) this.deps.schedule();
  }

  /** These files are the disk's again: judged on it, and patched back if that changes code. */
  private giveBackToDisk(list: string[], schedule = true): boolean {
    const { files, judge } = this.deps;
    let changed = false;
    for (const f of list) {
      files.setOverlay(f, undefined);
      const disk = files.readIfSmall(f);
      if (disk !== undefined && !files.isLastSeen(f, disk)) {
        judge(f, disk);
        changed = true;
      }
    }
    if (changed && schedule) this.deps.schedule();
    return changed;
  }
}
