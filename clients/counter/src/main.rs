//! counter: a headless app for end-to-end tests of hot-patching. It connects the subsecond agent,
//! then prints one line every ~150 ms:
//!
//! `tick=<n> count=<state.count> tip=<tip_message()> core=<counter_core::core_message()> pid=<pid>`
//!
//! Tests edit `tip_message` (tip crate) and `counter_core::core_message` (workspace crate) and
//! watch the lines change while `tick` keeps counting (state survives the patch). Adding a field
//! to `State` changes its layout, which must be reported as needing a restart.

use std::io::Write;
use std::time::Duration;

/// The app's state, kept across patches.
pub struct State {
    pub count: u64,
}

fn main() {
    subsecond_agent::connect();

    let mut state = State { count: 0 };
    let mut ticks: u64 = 0;
    loop {
        // The closure deliberately captures two references. subsecond 0.7 treats a closure that
        // is exactly pointer-sized as a fn pointer and looks its *data* up in the jump table,
        // which never matches: `|| tick(&mut state)` alone would never pick up a patch.
        subsecond::call(|| tick(&mut state, &mut ticks));
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn tick(state: &mut State, ticks: &mut u64) {
    *ticks += 1;
    state.count += 1;
    // After the first patch this function runs from the patch library, where a direct call into
    // counter_core may still be bound to the executable's original copy; hot! goes through the
    // jump table by the function's original address instead.
    let core = subsecond_agent::hot!(counter_core::core_message)();
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "tick={} count={} tip={} core={} pid={}", ticks, state.count, tip_message(), core, std::process::id())
        .and_then(|_| out.flush());
    // Ends the app when stdout is gone: an orphaned fixture should not linger. Tests of process
    // cleanup set COUNTER_IGNORE_CLOSED_STDOUT, so that only the server can be what stops it.
    if let Err(e) = written {
        if std::env::var_os("COUNTER_IGNORE_CLOSED_STDOUT").is_none() {
            panic!("stdout closed: {e}");
        }
    }
}

/// Shown in every tick line as `tip=...`.
#[inline(never)]
fn tip_message() -> &'static str {
    "tip-v1"
}
