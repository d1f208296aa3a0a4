// A Rust crate compiled to wasm32-unknown-unknown, loaded in-process and called synchronously.
// Bytes in, bytes out (the crates' shared boundary, wasm-abi/): the host allocates an input buffer with
// `wasm_alloc`, writes it, calls an entry, which frees the input and returns a block
// `[u32 length][bytes]` that the host copies and frees with `wasm_free_result`. A trap (a bug
// in the module) throws here and the next call starts a fresh instance; callers treat a throw as
// "could not answer", never as an answer.
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

// Node has WebAssembly; the project's TypeScript libs (ES2022, no DOM) do not declare it.
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): Array<{ module: string; name: string }> };
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WasmGlobal = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  [entry: string]: unknown;
}

export class WasmModule {
  private compiled: object | undefined;
  private instance: Exports | undefined;

  /**
   * `file` finds the .wasm (called on first use); `name` is for errors. Imports the module
   * declares are given functions that throw: a crate that links a wasm-bindgen dependency it
   * never calls (rsx-templates: dioxus-core's subsecond) still instantiates, and a call into one
   * is a trap like any other.
   */
  constructor(
    private readonly file: () => string,
    private readonly name: string,
    /**
     * Compile every function optimized on its first call (no baseline tier): for a module called
     * rarely but on a latency path (rsx-templates, once per save), whose calls would otherwise
     * run baseline code for a long time.
     */
    private readonly optimizeAtOnce = false,
  ) {}

  private exportsOf(): Exports {
    if (this.instance) return this.instance;
    if (!this.compiled) {
      const bytes = fs.readFileSync(this.file());
      // V8 takes a module's tiers when it is compiled: with Liftoff off for this module only, each
      // function is compiled optimized on its first call (slower once, at the warm-up) instead
      // of running as baseline code until it has been called often enough to be re-compiled.
      if (this.optimizeAtOnce) v8.setFlagsFromString('--no-liftoff');
      try {
        this.compiled = new WasmGlobal.Module(bytes);
      } finally {
        if (this.optimizeAtOnce) v8.setFlagsFromString('--liftoff');
      }
    }
    const imports: Record<string, Record<string, () => never>> = {};
    for (const i of WasmGlobal.Module.imports(this.compiled)) {
      (imports[i.module] ??= {})[i.name] = () => {
        throw new Error(`${this.name} called the host import ${i.module}.${i.name}, which it never should`);
      };
    }
    this.instance = new WasmGlobal.Instance(this.compiled, imports).exports as Exports;
    return this.instance;
  }

  /** Calls `entry(ptr, len) -> result block` with `input`; returns the result's bytes (a copy). */
  call(entry: string, input: Uint8Array): Uint8Array {
    const wasm = this.exportsOf();
    try {
      const fn = wasm[entry] as (ptr: number, len: number) => number;
      const ptr = (wasm.wasm_alloc as (len: number) => number)(input.length);
      new Uint8Array(wasm.memory.buffer, ptr, input.length).set(input);
      const block = fn(ptr, input.length); // frees the input
      const len = new DataView(wasm.memory.buffer).getUint32(block, true);
      const out = new Uint8Array(wasm.memory.buffer, block + 4, len).slice();
      (wasm.wasm_free_result as (ptr: number) => void)(block);
      return out;
    } catch (err) {
      this.instance = undefined; // a trap leaves the instance's heap in an unknown state
      throw new Error(`${this.name} ${entry} failed: ${(err as Error).message}`);
    }
  }
}
