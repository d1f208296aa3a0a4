// For the real-crates sweep: which of its layout edits would a HotState migration carry, had the
// type's values been in a HotState handle? Migration serializes with the old code and
// deserializes with the new (serde), so the type must implement both `Serialize` and
// `Deserialize`: derived on the item (unconditionally, or under `cfg_attr`, i.e. behind a cargo
// feature such as `serde`), or implemented by hand anywhere in its crate. Read from the source
// text (attributes and `impl` headers), as a user would see it.

/** How a type gets both serde traits, if it does. */
export type SerdeSupport = 'derive' | 'derive-behind-cfg' | 'impl' | 'none';

const DERIVE_LIST = /#\s*\[\s*derive\s*\(([^)]*)\)\s*\]/g;
const CFG_ATTR_DERIVE = /#\s*\[\s*cfg_attr\s*\(([\s\S]*?)\)\s*\]\s*$/;

const named = (list: string, trait: string) => new RegExp(`(^|[\\s,:])${trait}\\s*(,|$)`).test(list.trim());

/** Trait names a list of derives (`Debug, serde::Serialize`) holds. */
function derivesBoth(list: string): boolean {
  return named(list, 'Serialize') && named(list, 'Deserialize');
}

/** The serde traits a derive (plain or in a `cfg_attr`) on `attrs` (the item's attribute text) gives. */
export function serdeDerive(attrs: string): 'derive' | 'derive-behind-cfg' | undefined {
  let plain = '';
  let gated = '';
  for (const a of attrs.split(/(?=#\s*\[)/)) {
    const cfg = CFG_ATTR_DERIVE.exec(a.trim());
    if (cfg && /derive\s*\(/.test(cfg[1])) {
      for (const m of cfg[1].matchAll(/derive\s*\(([^)]*)\)/g)) gated += `,${m[1]}`;
      continue;
    }
    for (const m of a.matchAll(DERIVE_LIST)) plain += `,${m[1]}`;
  }
  if (derivesBoth(plain)) return 'derive';
  if (derivesBoth(`${plain},${gated}`)) return 'derive-behind-cfg';
  return undefined;
}

/** Names of types with a hand-written `impl Serialize for X` and `impl Deserialize for X` in `texts`. */
export function manualSerdeImpls(texts: Iterable<string>): Set<string> {
  const ser = new Set<string>();
  const de = new Set<string>();
  const header = /\bimpl\s*(?:<[^{;]*?>)?\s*(?:[\w:]+::)?(Serialize|Deserialize)\s*(?:<[^>]*>)?\s+for\s+(?:[\w:]+::)?([A-Za-z_]\w*)/g;
  for (const text of texts) {
    for (const m of text.matchAll(header)) (m[1] === 'Serialize' ? ser : de).add(m[2]);
  }
  return new Set([...ser].filter((n) => de.has(n)));
}

export function serdeSupport(attrs: string, name: string, manual: ReadonlySet<string>): SerdeSupport {
  return serdeDerive(attrs) ?? (manual.has(name) ? 'impl' : 'none');
}

/**
 * Whether serde would read the old value into the type as the sweep edited it (with the derive's
 * default behaviour): a variant appended or two swapped (variants are named), or a field appended
 * to a struct whose container says `#[serde(default)]`. A retyped field (`[u8; 37]`) or an
 * appended field without a default does not deserialize.
 */
export function oldValueDeserializes(what: string, attrs: string): boolean {
  if (what === 'variant appended' || what === 'variants swapped') return true;
  if (what === 'field appended') return /#\s*\[\s*serde\s*\([^)]*\bdefault\b/.test(attrs);
  return false;
}
