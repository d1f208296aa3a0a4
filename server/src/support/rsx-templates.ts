// The subsecond-rsx-templates WebAssembly module (rsx-templates/: Dioxus' own rsx! template diff,
// dioxus-rsx-hotreload 0.7.10), loaded on first use (only Dioxus apps ask) and called
// synchronously. One call: the text a file's running code was built from, its new text and its
// path relative to the workspace root → the templates `dx serve` would send, or why a build is
// needed.
import { rsxTemplatesWasm } from './package-files';
import { WasmModule } from './wasm-module';

// Optimized at once: one call per save, on the path from the save to the window (about 1.5 ms
// a call instead of about 5 on the dioxus-desktop fixture, measured on a busy two-core machine;
// the app's connect-time warm-up pays the compile, a few hundred ms).
const wasmModule = new WasmModule(rsxTemplatesWasm, 'subsecond-rsx-templates', true);

/** One `HotReloadTemplateWithLocation` as dioxus-devtools-types serializes it (kept as parsed JSON). */
export interface RsxTemplate {
  key: { file: string; line: number; column: number; index: number };
  template: unknown;
}

export type RsxTemplateOutcome =
  | {
      kind: 'templates';
      /** Every template of every rsx! call of the file, sorted by key. */
      templates: RsxTemplate[];
      /** rsx! calls whose tokens differ from the old text. */
      changedCalls: number;
      /** rsx! calls in the file. */
      calls: number;
    }
  | { kind: 'needsBuild'; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What a change of one file means for rsx! templates. `file` is the key's file: relative to the
 * workspace root, '/' separators (as rustc's `file!()` sees it when cargo builds the workspace).
 * Throws when the module is missing or traps.
 */
export function rsxTemplateUpdate(oldText: string, newText: string, file: string): RsxTemplateOutcome {
  const out = wasmModule.call('rt_templates', encoder.encode(JSON.stringify({ old: oldText, new: newText, file })));
  return JSON.parse(decoder.decode(out)) as RsxTemplateOutcome;
}

/** Compiles and instantiates the module and runs one small diff, so a first save does not pay for it. */
export function warmRsxTemplates(): void {
  const text = 'fn app() -> Element { rsx! { div { "a" } } }';
  rsxTemplateUpdate(text, text.replace('"a"', '"b"'), 'src/main.rs');
}
