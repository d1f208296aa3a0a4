//! subsecond-debuginfo: what rustc's own output says, read with the field's standard libraries
//! and compiled to WebAssembly, so that the server (Node) calls it in-process and synchronously
//! and the npm package ships one portable file (built by `server/scripts/build-debuginfo.js`).
//!
//! - `demangle`: symbol names, legacy (`_ZN…E`) and v0 (`_R…`), with `rustc-demangle`.
//! - `layouts`: type layouts of the workspace crates from DWARF, with `gimli` + `object`.
//! - `instances`: which generic instance a function symbol is (its DWARF name), from the same DWARF.
//!
//! The ABI is bytes in, bytes out (see `wasm-abi/`, shared with rsx-templates); the TypeScript side is
//! `server/src/support/debuginfo.ts`.

use wasm_abi as abi;
pub mod demangle;
pub mod instances;
pub mod layouts;
