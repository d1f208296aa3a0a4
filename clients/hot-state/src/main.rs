//! hot-state-app: the state-migration end-to-end fixture. Its state lives in a
//! `subsecond_agent::HotState`, and it prints one line every ~150 ms:
//!
//! `tick=<n> count=<state.count> level=<state.level> extra=<extra()> msg=<message()> pid=<pid>`
//!
//! Tests add a field to `State` (with `#[serde(default)]`) and print it from `extra`, remove a
//! field, rename one (`#[serde(alias)]`), retype one to a type serde converts and one so the old
//! value does not deserialize, and make a static hold a `State` by value; `count` must keep
//! counting in the same process whenever the state is migrated.

use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use subsecond_agent::HotState;

/// The app's state, kept across patches, including those that change its layout.
#[derive(Serialize, Deserialize)]
pub struct State {
    pub count: u64,
    pub level: String,
}

fn main() {
    subsecond_agent::connect();
    let state = HotState::new(State { count: 0, level: "forest".to_string() });
    let mut ticks: u64 = 0;
    loop {
        state.call(|s| tick(s, &mut ticks));
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn tick(state: &mut State, ticks: &mut u64) {
    *ticks += 1;
    state.count += 1;
    let mut out = std::io::stdout().lock();
    let written = writeln!(
        out,
        "tick={} count={} level={} extra={} msg={} pid={}",
        ticks,
        state.count,
        level(state),
        extra(state),
        message(),
        std::process::id()
    )
    .and_then(|_| out.flush());
    if written.is_err() {
        std::process::exit(0); // stdout gone: the server is
    }
}

/// Shown as `level=`.
fn level(state: &State) -> String {
    state.level.clone()
}

/// Shown as `extra=`: what tests print of a field they add.
fn extra(_state: &State) -> String {
    "none".to_string()
}

/// Shown as `msg=`.
#[inline(never)]
fn message() -> &'static str {
    "msg-v1"
}
