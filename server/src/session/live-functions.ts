// Which changed functions the running app runs: every function whose code differs from the fat
// build is either pending (saved, not yet live), live (its current text went out in a confirmed
// patch), sent (its current text went out to a client that does not report back, Dioxus' devtools
// client: not "live", since nothing confirmed it runs) or waits for a restart. Plain data for the
// per-function and per-component lenses; it never patches.
import { createHash } from 'node:crypto';
import type { ChangedFunction, SourceRange } from '../analysis';
import type { FunctionStatus } from './observer';

function offsetOf(lineStarts: number[], p: { line: number; character: number }): number {
  return (lineStarts[p.line] ?? Infinity) + p.character;
}

function lineStartsOf(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** A hash of the function's text as it is now (attributes to the end of its body). */
function textHash(text: string, range: SourceRange): string {
  const starts = lineStartsOf(text);
  return createHash('sha1').update(text.slice(offsetOf(starts, range.start), offsetOf(starts, range.end))).digest('hex');
}

const within = (inner: SourceRange, outer: SourceRange) =>
  (inner.start.line > outer.start.line || (inner.start.line === outer.start.line && inner.start.character >= outer.start.character)) &&
  (inner.end.line < outer.end.line || (inner.end.line === outer.end.line && inner.end.character <= outer.end.character));

export class LiveFunctions {
  /** `file#id` → the text hash that went live, with the patch that carried it. */
  private readonly live = new Map<string, { hash: string; patch: number; ms: number; confirmed: boolean }>();
  private pid: number | undefined;

  /**
   * A patch carried these functions as `text` has them; `confirmed`: the app's agent said it
   * applied it (a dx-compatible client never says).
   */
  recordPatch(pid: number, file: string, text: string, fns: ChangedFunction[], patch: number, ms: number, confirmed = true): void {
    this.forApp(pid);
    for (const f of fns) this.live.set(`${file}#${f.id}`, { hash: textHash(text, f.range), patch, ms, confirmed });
  }

  /** Each changed function of `file` and its state; `restartRanges` are the ranges of restart findings. */
  statesOf(pid: number, file: string, text: string, fns: ChangedFunction[], restartRanges: SourceRange[]): FunctionStatus[] {
    this.forApp(pid);
    return fns.map((f) => {
      const base = { name: f.item, range: f.range, ...(f.component ? { component: true } : {}) };
      if (restartRanges.some((r) => within(r, f.range))) return { ...base, state: 'restart' as const };
      const live = this.live.get(`${file}#${f.id}`);
      if (live && live.hash === textHash(text, f.range)) {
        return live.confirmed ? { ...base, state: 'live' as const, patch: live.patch, ms: live.ms } : { ...base, state: 'sent' as const, patch: live.patch };
      }
      return { ...base, state: 'pending' as const };
    });
  }

  /** What went live for one app process means nothing for the next. */
  private forApp(pid: number): void {
    if (this.pid === pid) return;
    this.pid = pid;
    this.live.clear();
  }
}
