// What the Dioxus fixture's window shows (clients/dioxus-desktop/src/probe.rs): in debug builds it
// evaluates JavaScript in the webview every half second and prints a `DOM pid=… {json}` line.
// Shared by the LSP-mode and terminal-mode end-to-end tests.

export interface WindowRead {
  pid: number;
  text: string;
  title: string;
  titleColor: string;
  count: number;
  at: number;
}

/** The fixture's `DOM pid=… {json}` lines among the server's logs (app stdout is `[app stdout] …`). */
export function readsIn(logs: string[]): WindowRead[] {
  const out: WindowRead[] = [];
  for (const l of logs) {
    if (!l.startsWith('[app stdout]')) continue;
    const m = /DOM pid=(\d+) (\{.*\})\s*$/.exec(l);
    if (!m) continue;
    try {
      const j = JSON.parse(m[2]) as { text?: string; title?: string; titleColor?: string; count?: string };
      const count = /(\d+)\s*$/.exec(j.count ?? '');
      out.push({ pid: +m[1], text: j.text ?? '', title: j.title ?? '', titleColor: j.titleColor ?? '', count: count ? +count[1] : -1, at: out.length });
    } catch {
      // a line cut by the pipe: the next one comes half a second later
    }
  }
  return out;
}
