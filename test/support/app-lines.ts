// Lines of the line-printing fixtures (`tick=3 lib=lib-v1 … pid=42`) among the server's logs, as
// key → value records. The app's stdout reaches the test as `[app stdout] …` log messages.

export interface AppLine {
  fields: Record<string, string>;
  tick: number;
  pid: number;
  line: string;
}

/** `key=value` pairs of one line; undefined unless it has both `tick=` and `pid=`. */
export function parseAppLine(line: string): AppLine | undefined {
  const fields: Record<string, string> = {};
  for (const m of line.matchAll(/([A-Za-z_]+)=(\S+)/g)) fields[m[1]] = m[2];
  if (fields.tick === undefined || fields.pid === undefined) return undefined;
  return { fields, tick: Number(fields.tick), pid: Number(fields.pid), line };
}

/** The app's lines among the logs, oldest first. */
export function appLinesIn(logs: string[]): AppLine[] {
  return logs
    .filter((l) => l.startsWith('[app stdout]'))
    .map(parseAppLine)
    .filter((t): t is AppLine => !!t);
}
