// A session observer that drops everything: for unit tests of session parts that log, notify
// and report progress but whose tests assert on return values, not on what was said.
import type { SessionObserver } from '../../server/src/session/observer';

export const silentObserver = {
  log: () => undefined,
  notify: () => undefined,
  problemsChanged: () => undefined,
  statusChanged: () => undefined,
  beginProgress: () => ({ report: () => undefined, done: () => undefined }),
} as unknown as SessionObserver;
