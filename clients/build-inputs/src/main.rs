//! station: an app built from more than Rust source. It connects the subsecond agent, then prints
//! one line every ~150 ms:
//!
//! `tick=<n> motd=<data/motd.txt> banner=<station_macros::banner!()> gauge=<Gauge::shown()> stamp=<station_info::stamp()> stations=<…> schema=<…> pid=<pid>`
//!
//! `motd` is read at compile time (include_str!): saving data/motd.txt must rebuild this crate.
//! `Gauge` is what `station_macros::gauge!()` generates: its layout is the macro's.

use std::io::Write;
use std::time::Duration;

station_macros::gauge!();

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
    let gauge = Gauge::new((*ticks % 10) as u32);
    let mut out = std::io::stdout().lock();
    let written = writeln!(
        out,
        "tick={} motd={} banner={} gauge={} stamp={} stations={} schema={} pid={}",
        ticks,
        motd(),
        station_macros::banner!(),
        gauge.shown(),
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
