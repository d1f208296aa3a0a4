// The subsecond-debuginfo WebAssembly module (debuginfo/: rustc-demangle, gimli, object), loaded
// in-process and called synchronously. Bytes in, bytes out (debuginfo/src/abi.rs). A trap (a bug
// in the module) throws here and the next call starts a fresh instance; callers treat a throw as
// "could not read", never as an answer.
import * as fs from 'node:fs';
import { debuginfoWasm } from './package-files';

// Node has WebAssembly; the project's TypeScript libs (ES2022, no DOM) do not declare it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WasmGlobal = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  sd_alloc(len: number): number;
  sd_free(ptr: number, len: number): void;
  sd_free_result(ptr: number): void;
  [entry: string]: unknown;
}

let compiled: object | undefined;
let instance: Exports | undefined;

function exportsOf(): Exports {
  if (instance) return instance;
  compiled ??= new WasmGlobal.Module(fs.readFileSync(debuginfoWasm()));
  instance = new WasmGlobal.Instance(compiled, {}).exports as unknown as Exports;
  return instance;
}

/** Calls `entry(ptr, len) -> result block` with `input`; returns the result's bytes (a copy). */
export function callDebuginfo(entry: string, input: Uint8Array): Uint8Array {
  const wasm = exportsOf();
  try {
    const fn = wasm[entry] as (ptr: number, len: number) => number;
    const ptr = wasm.sd_alloc(input.length);
    new Uint8Array(wasm.memory.buffer, ptr, input.length).set(input);
    const block = fn(ptr, input.length); // frees the input
    const len = new DataView(wasm.memory.buffer).getUint32(block, true);
    const out = new Uint8Array(wasm.memory.buffer, block + 4, len).slice();
    wasm.sd_free_result(block);
    return out;
  } catch (err) {
    instance = undefined; // a trap leaves the instance's heap in an unknown state
    throw new Error(`subsecond-debuginfo ${entry} failed: ${(err as Error).message}`);
  }
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
