// Process checks for tests that must prove an app was (or was not) stopped.

/** Is there a process with this pid (signal 0 checks without sending anything)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
