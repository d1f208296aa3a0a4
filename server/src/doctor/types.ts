// Plain data of a doctor run, shared by the terminal output and the LSP command.

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  /** Stable id, e.g. `patch-linker`. */
  id: string;
  /** What was checked, for people: "patch linker". */
  title: string;
  status: CheckStatus;
  /** What was found: "rust-lld through cc (linked a test patch in 41 ms)". */
  detail: string;
  /** What to do, for `warn` and `fail`. */
  fix?: string;
}

export interface DoctorOptions {
  /** The app's Cargo.toml; default: the nearest one at or above `cwd`. */
  manifestPath?: string;
  package?: string;
  bin?: string;
  /** Extra arguments of the fat `cargo build` (they choose the profile). */
  cargoArgs: string[];
  cwd: string;
}

export interface DoctorReport {
  manifestPath?: string;
  checks: DoctorCheck[];
  /** No check failed. */
  ok: boolean;
}
