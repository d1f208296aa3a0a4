// subsecond's JumpTable as it travels from the engine (which builds it) through the devserver
// (which relays it) to the app (docs/protocol.md, contract). One definition for both modules.

/** Addresses stay below 2^48, so they are exact as JS numbers. */
export interface JumpTable {
  /** Absolute path of the patch library. */
  lib: string;
  /** Static address in the fat executable (decimal string) → static address in the patch. */
  map: Record<string, number>;
  /** Static address of `main` in the fat executable. */
  aslr_reference: number;
  /** Static address of `main` in the patch. */
  new_base_address: number;
  /** wasm table slots; 0 on native targets. */
  ifunc_count: number;
}
