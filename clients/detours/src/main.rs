//! detours: a headless app for the entry-detour tests. It connects the subsecond agent, starts two
//! threads that call `spin_value` in a tight loop, and prints one line every ~100 ms:
//!
//! `plain=… dyn=… closure=… fnptr=… hot=… sig=… spin=A,B frames=N pid=P`
//!
//! Every value is reached a way the jump table alone never patches: a direct call from the main
//! loop (which runs the original code forever), a trait object made at startup, a boxed closure
//! stored in a struct, a fn pointer kept in a struct, a one-capture closure given to `subsecond::call`
//! (pointer-sized, so subsecond looks up its data, not its code), and other threads' loops.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

trait Describe {
    fn describe(&self) -> &'static str;
}

struct Obj;

impl Describe for Obj {
    fn describe(&self) -> &'static str {
        "d0"
    }
}

struct Handlers {
    f: fn() -> &'static str,
}

struct Stored {
    f: Box<dyn Fn() -> &'static str>,
}

static SPIN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

fn main() {
    subsecond_agent::connect();
    let obj: Box<dyn Describe> = Box::new(Obj);
    let stored = Stored { f: Box::new(|| "c0") };
    let handlers = Handlers { f: fnptr_value };
    for i in 0..2 {
        std::thread::spawn(move || loop {
            SPIN[i].store(spin_value(), Ordering::Relaxed);
        });
    }
    let mut frames: u64 = 0;
    loop {
        frames += 1;
        let hot = subsecond::call(|| if frames > 0 { "h0" } else { "none" });
        let line = format!(
            "plain={} dyn={} closure={} fnptr={} hot={} sig={} spin={},{} frames={} pid={}",
            plain_value(),
            obj.describe(),
            (stored.f)(),
            (handlers.f)(),
            hot,
            sig_value(2),
            SPIN[0].load(Ordering::Relaxed),
            SPIN[1].load(Ordering::Relaxed),
            frames,
            std::process::id()
        );
        let mut out = std::io::stdout().lock();
        // Ends the app when stdout is gone: an orphaned fixture should not linger.
        if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
            std::process::exit(1);
        }
        drop(out);
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn plain_value() -> &'static str {
    "p0"
}

fn fnptr_value() -> &'static str {
    "f0"
}

fn sig_value(x: u64) -> u64 {
    x * 10
}

// black_box keeps the body longer than the 5-byte jump even when it returns a constant
// (`xor eax, eax; ret` alone is too short to detour and would be left to the jump table).
fn spin_value() -> u64 {
    std::hint::black_box(0) // spin
}
