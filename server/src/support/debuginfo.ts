// The subsecond-debuginfo WebAssembly module (debuginfo/: rustc-demangle, gimli, object), loaded
// in-process and called synchronously (support/wasm-module.ts: bytes in, bytes out; a trap throws
// and callers treat a throw as "could not read", never as an answer).
import { debuginfoWasm } from './package-files';
import { WasmModule } from './wasm-module';

const wasmModule = new WasmModule(debuginfoWasm, 'subsecond-debuginfo', 'sd');

/** Calls `entry(ptr, len) -> result block` with `input`; returns the result's bytes (a copy). */
export function callDebuginfo(entry: string, input: Uint8Array): Uint8Array {
  return wasmModule.call(entry, input);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Rust symbol names, legacy (`_ZN…E`) or v0 (`_R…`), as readable paths without hashes or
 * disambiguators (rustc-demangle's alternate form); a name that is not a Rust symbol comes back
 * unchanged. One call for many names: crossing into the module costs more than demangling one.
 */
export function demangleMany(symbols: readonly string[]): string[] {
  if (symbols.length === 0) return [];
  if (symbols.some((s) => s.includes('\n'))) return symbols.map((s) => (s.includes('\n') ? s : demangleMany([s])[0]));
  const out = decoder.decode(callDebuginfo('sd_demangle', encoder.encode(symbols.join('\n')))).split('\n');
  if (out.length !== symbols.length) throw new Error(`subsecond-debuginfo sd_demangle returned ${out.length} names for ${symbols.length}`);
  return out;
}
