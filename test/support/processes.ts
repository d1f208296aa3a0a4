// Process checks for tests that must prove an app was (or was not) stopped.
import * as fs from 'node:fs';

/** Is there a process with this pid (signal 0 checks without sending anything)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has ended; it only waits for whoever adopted it (maybe a pid 1 that never reaps).
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Polls `check` until it returns something truthy; the error says what was awaited and `context()`. */
export async function pollUntil<T>(what: string, check: () => T | undefined | false, timeoutMs: number, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context() ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
