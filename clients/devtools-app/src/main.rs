//! devtools-app: proves that an app built with plain `dioxus_devtools::connect_subsecond()`, as
//! Bevy's plugin and Dioxus apps are, is hot-patched by subsecond-lsp without modification.
//! It prints one line every ~150 ms:
//!
//! `tick=<n> msg=<message()> pid=<pid>`
//!
//! Tests edit `message()` and watch the line change in the same process while `tick` keeps counting.

use std::io::Write;
use std::time::Duration;

fn main() {
    // Reads DIOXUS_DEVSERVER_IP/PORT (set by dx, or by subsecond-lsp) and applies jump tables
    // addressed to this pid on a background thread; without a devserver it does nothing.
    dioxus_devtools::connect_subsecond();

    let mut ticks: u64 = 0;
    let mut other: u64 = 0;
    loop {
        // Two captured references on purpose: subsecond 0.7 treats a pointer-sized closure as a
        // fn pointer and looks its data up in the jump table, so `|| tick(&mut ticks)` alone
        // would never pick up a patch.
        subsecond::call(|| tick(&mut ticks, &mut other));
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn tick(ticks: &mut u64, other: &mut u64) {
    *ticks += 1;
    *other = other.wrapping_add(1);
    let mut out = std::io::stdout().lock();
    // Panics (and so ends the app) when stdout is gone: an orphaned fixture should not linger.
    writeln!(out, "tick={} msg={} pid={}", ticks, message(), std::process::id()).expect("stdout closed");
    out.flush().expect("stdout closed");
}

/// Shown in every tick line as `msg=...`; the tests edit this literal.
#[inline(never)]
fn message() -> &'static str {
    "devtools-v1"
}
