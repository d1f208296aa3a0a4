//! subsecond-rsx-templates: Dioxus `rsx!` template updates without a build, as `dx serve` 0.7.10
//! makes them, computed with Dioxus' own crates (`dioxus-rsx-hotreload`, `dioxus-rsx`,
//! `dioxus-html`'s element table) and compiled to WebAssembly, so that the server (Node) calls it
//! in-process for Dioxus apps (built by `server/scripts/build-debuginfo.js`, loaded by
//! `server/src/support/rsx-templates.ts`).
//!
//! One call: the text a file's running code was built from, the file's new text and its path
//! relative to the workspace root → either the templates to send (serialized exactly as
//! `dioxus-devtools-types` sends `HotReloadTemplateWithLocation`) or why only a build can apply
//! the change.

use wasm_abi as abi;
pub mod templates;

use serde::Deserialize;

#[derive(Deserialize)]
struct Request {
    old: String,
    new: String,
    file: String,
}

/// Input: JSON `{ "old": text, "new": text, "file": "src/main.rs" }`; output: JSON (see
/// `templates::Outcome`). Bad input is an answer (`needsBuild`), never a trap.
#[no_mangle]
pub extern "C" fn rt_templates(ptr: *mut u8, len: usize) -> *mut u8 {
    let input = abi::take_input(ptr, len);
    let outcome = match serde_json::from_slice::<Request>(input.bytes()) {
        Ok(req) => templates::templates_for(&req.old, &req.new, &req.file),
        Err(err) => templates::Outcome::NeedsBuild { reason: format!("bad request: {err}") },
    };
    drop(input);
    let json = serde_json::to_vec(&outcome).unwrap_or_else(|err| {
        format!("{{\"kind\":\"needsBuild\",\"reason\":\"could not serialize the templates: {err}\"}}").into_bytes()
    });
    abi::result(&json)
}
