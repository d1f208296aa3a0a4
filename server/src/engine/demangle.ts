// engine/demangle.ts — readable names for notes and logs: Rust's legacy mangling (`_ZN…E`) is
// decoded; anything else (v0 `_R…`, C names) is returned unchanged. Never used for matching.
// Never imports the LSP library or the devserver.

const ESCAPES: Record<string, string> = { SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',' };

export function demangle(sym: string): string {
  const name = sym.replace(/\.llvm\.\d+$/, '');
  if (!name.startsWith('_ZN') || !name.endsWith('E')) return sym;
  const parts: string[] = [];
  let i = 3;
  while (i < name.length - 1) {
    let j = i;
    while (j < name.length && name[j] >= '0' && name[j] <= '9') j++;
    if (j === i) return sym;
    const len = Number(name.slice(i, j));
    parts.push(name.slice(j, j + len));
    i = j + len;
  }
  if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  return parts
    .map((p) =>
      p
        .replace(/^_\$/, '$')
        // One left-to-right pass: in `$LT$u8$GT$`, `$u8$` is not an escape.
        .replace(/\$(SP|BP|RF|LT|GT|LP|RP|C|u[0-9a-f]+)\$/g, (m, k: string) =>
          k.startsWith('u') ? String.fromCodePoint(parseInt(k.slice(1), 16)) : (ESCAPES[k] ?? m),
        )
        .replace(/\.\./g, '::'),
    )
    .join('::');
}
