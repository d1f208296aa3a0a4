// The editor's open documents as the session sees them: their text, which differs from the disk
// until it is saved, and when typing pauses. State and one timer; it decides nothing.

export class EditorBuffers {
  private readonly texts = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    /** How long the buffers must be still to count as a pause (ms). */
    private readonly pauseMs: () => number,
    private readonly onPause: () => void,
  ) {}

  /** A buffer's new text (didOpen or didChange): the pause starts again. */
  changed(file: string, text: string): void {
    this.texts.set(file, text);
    this.arm();
  }

  /** The editor closed the buffer: the disk is its content again. */
  closed(file: string): void {
    this.texts.delete(file);
  }

  has(file: string): boolean {
    return this.texts.has(file);
  }

  /** Buffers whose text differs from `diskText` (undefined: unreadable, or not a file to consider). */
  unsaved(diskText: (file: string) => string | undefined): Map<string, string> {
    const out = new Map<string, string>();
    for (const [file, text] of this.texts) {
      const disk = diskText(file);
      if (disk !== undefined && disk !== text) out.set(file, text);
    }
    return out;
  }

  /** (Re)starts the pause timer; `delayMs` overrides the setting (to look again later). */
  arm(delayMs = this.pauseMs()): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.disposed) this.onPause();
    }, delayMs);
    this.timer.unref?.();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
