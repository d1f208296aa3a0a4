// The subsecond-debuginfo WebAssembly module (debuginfo/: rustc-demangle, gimli, object), loaded
// in-process and called synchronously (support/wasm-module.ts: bytes in, bytes out; a trap throws
// and callers treat a throw as "could not read", never as an answer).
import { debuginfoWasm } from './package-files';
import { WasmModule } from './wasm-module';

const wasmModule = new WasmModule(debuginfoWasm, 'subsecond-debuginfo');

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

/**
 * For each of `symbols` that a subprogram of the ELF file `bytes` carries as its linkage name,
 * the subprogram's DWARF name: an instance with its generic arguments (`restore_erased<app::State>`,
 * `{closure#1}<app::State>`), which legacy symbol names keep only in their hash
 * (debuginfo/src/instances.rs). Symbols without such a subprogram are left out.
 */
export function instanceNames(bytes: Uint8Array, symbols: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (symbols.length === 0) return out;
  const header = encoder.encode(`elf\n${symbols.filter((s) => !s.includes('\n')).join('\n')}`);
  const input = new Uint8Array(4 + header.length + bytes.length);
  new DataView(input.buffer).setUint32(0, header.length, true);
  input.set(header, 4);
  input.set(bytes, 4 + header.length);
  for (const line of decoder.decode(callDebuginfo('sd_instances', input)).split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    if (line.startsWith('error\t')) throw new Error(`subsecond-debuginfo sd_instances: ${line.slice(tab + 1)}`);
    out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}
