//! station: an app built from more than Rust source. It connects the subsecond agent, then prints
//! one line every ~150 ms:
//!
//! `tick=<n> motd=<data/motd.txt> banner=<station_macros::banner!()> stamp=<station_info::stamp()> stations=<…> schema=<…> pid=<pid>`
//!
//! `motd` is read at compile time (include_str!): saving data/motd.txt must rebuild this crate.

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
        "tick={} motd={} banner={} stamp={} stations={} schema={} pid={}",
        ticks,
        motd(),
        station_macros::banner!(),
        station_info::stamp(),
        station_info::stations(),
        station_info::schema(),
        std::process::id()
    )
    .and_then(|_| out.flush());
    // Ends the app when stdout is gone: an orphaned fixture should not linger.
    if written.is_err() {
        std::process::exit(0);
    }
}

/// The message of the day, compiled in from data/motd.txt.
#[inline(never)]
fn motd() -> &'static str {
    include_str!("../data/motd.txt").trim()
}
