//! ledger: the binary of a package that also has a library. It connects the subsecond agent, then
//! prints one line every ~150 ms:
//!
//! `tick=<n> lib=<ledger::lib_message()> mod=<ledger::pricing::pricing_message()> bin=<bin_message()> view=<view::view_message()> pid=<pid>`
//!
//! Tests edit each of the four functions (library root, library module, binary root, binary
//! module) and watch the line change in the same process while `tick` keeps counting.

mod view;

use std::io::Write;
use std::time::Duration;

fn main() {
    subsecond_agent::connect();
    let mut ticks: u64 = 0;
    let mut lines: u64 = 0;
    loop {
        // Two captured references: subsecond 0.7 treats a pointer-sized closure as a fn pointer
        // and would never patch it.
        subsecond::call(|| tick(&mut ticks, &mut lines));
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn tick(ticks: &mut u64, lines: &mut u64) {
    *ticks += 1;
    *lines += 1;
    let mut out = std::io::stdout().lock();
    let written = writeln!(
        out,
        "tick={} lib={} mod={} bin={} view={} pid={}",
        ticks,
        ledger::lib_message(),
        ledger::pricing::pricing_message(),
        bin_message(),
        view::view_message(),
        std::process::id()
    )
    .and_then(|_| out.flush());
    // Ends the app when stdout is gone: an orphaned fixture should not linger.
    if written.is_err() {
        std::process::exit(0);
    }
}

/// Shown as `bin=...` in every tick line.
#[inline(never)]
fn bin_message() -> &'static str {
    "bin-v1"
}
