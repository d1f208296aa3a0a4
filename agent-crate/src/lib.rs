//! # subsecond-agent
//!
//! The in-app half of subsecond-lsp. Call [`connect`] once at the start of `main`:
//!
//! ```no_run
//! subsecond_agent::connect();
//! loop {
//!     // Everything reached from here is hot-patchable.
//!     subsecond::call(|| { /* one frame / tick */ });
//! }
//! ```
//!
//! In a debug build started by subsecond-lsp or `dx serve --hot-patch` (both set
//! `DIOXUS_DEVSERVER_IP`/`DIOXUS_DEVSERVER_PORT`), a background thread connects to the devserver,
//! applies the jump tables addressed to this process with `subsecond::apply_patch`, and reconnects
//! when the server restarts. Anywhere else (release builds, no devserver) it does nothing.
//!
//! Under subsecond-lsp (`SUBSECOND_LSP=1`) the agent also reports back: a `Hello` on connect and a
//! `PatchResult` after every patch (see the crate README for the exact JSON). Under dx it stays
//! silent, because dx logs an error for every client message it does not know.
//!
//! For calls from the tip crate into workspace crates use [`hot!`]; see its docs.
//!
//! With the `hot-state` feature, `HotState<T>` keeps state that a patch changing `T`'s layout can
//! migrate (serialized by the old code, deserialized by the new) instead of requiring a restart;
//! see the crate README, "State that survives a layout change".
//!
//! This crate owns the app side of the devserver connection. It never builds, links or decides
//! what to patch; it never panics the host app (every failure is reported or ignored).

#![warn(missing_docs)]

#[doc(hidden)]
pub mod detour;
mod hot;
#[cfg(feature = "hot-state")]
mod hot_state;
mod image;
#[cfg(debug_assertions)]
mod library;
mod migrate;
#[cfg(all(test, feature = "hot-state"))]
mod migrate_cost;
mod protocol;
#[cfg(debug_assertions)]
mod transport;

pub use image::{main_is_exported, runtime_main_address};
#[cfg(feature = "hot-state")]
pub use hot_state::HotState;

/// Version reported in `Hello`.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Not public API: used by the `hot!` macro expansion.
#[doc(hidden)]
pub mod __private {
    pub use crate::hot::{resolve, HotFnItem, HotSite};
}

/// Starts the agent's background thread, at most once per process.
///
/// Does nothing in release builds, or when `DIOXUS_DEVSERVER_IP`/`DIOXUS_DEVSERVER_PORT` are not
/// both set. Returns immediately; connecting, applying and reconnecting happen on the thread.
pub fn connect() {
    #[cfg(debug_assertions)]
    transport::start_once();
}
