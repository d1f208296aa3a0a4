//! layout-app: the layout gate's end-to-end fixture. It prints one line every ~150 ms:
//!
//! `tick=<n> ticks=<stats.ticks> slots=<SLOTS> head=<ring.head> mode=<flags.mode()> msg=<message()> pid=<pid>`
//!
//! Tests change the layout of what `State` holds where the source text cannot show it (the
//! `stats!` invocation's input, the `SLOTS` constant, `layout_core::Elem`, the backing integer of
//! the `bitfield-struct` attribute macro's `Flags`) and expect the patch to be blocked by the
//! compiler's layouts, while `message()` edits go live. `Timing` is for source findings the
//! compiler confirms or not: a field retyped through an alias (same layout), a field's `#[cfg]`
//! switched off (another layout).

use std::io::Write;
use std::time::Duration;

/// A struct whose fields come from the macro's input.
macro_rules! stats {
    ($($field:ident),* $(,)?) => {
        #[derive(Default)]
        pub struct Stats { $(pub $field: u64),* }
    };
}

stats!(ticks, bytes);

/// How many values `Held` keeps.
pub const SLOTS: usize = 3;

pub struct Held {
    pub vals: [u64; SLOTS],
}

/// Bit fields packed by the `bitfield-struct` attribute macro into the integer it names: its
/// layout is that integer's, which the fields as written do not show.
#[bitfield_struct::bitfield(u8)]
pub struct Flags {
    #[bits(4)]
    pub mode: u8,
    #[bits(4)]
    pub level: u8,
}

/// Another name of the integer `Timing::started` holds: retyping the field through it changes the
/// source text, not the compiled layout.
pub type Count = u64;

/// `extra` exists only with the `extra` feature (a default feature of this package): editing its
/// `#[cfg]` removes it from the compiled layout.
#[derive(Default)]
pub struct Timing {
    pub started: u64,
    #[cfg(feature = "extra")]
    pub extra: u64,
    pub phase: u32,
}

/// The app's state, kept across patches.
pub struct State {
    pub stats: Stats,
    pub held: Held,
    pub flags: Flags,
    pub ring: layout_core::Ring<layout_core::Elem>,
    pub timing: Timing,
}

fn main() {
    subsecond_agent::connect();
    let mut state = State { stats: Stats::default(), held: Held { vals: [0; SLOTS] }, flags: Flags::new().with_mode(3), ring: layout_core::Ring::new(), timing: Timing::default() };
    let mut ticks: u64 = 0;
    loop {
        // Two captures: subsecond 0.7 looks a pointer-sized closure's data up as a fn pointer.
        subsecond::call(|| tick(&mut state, &mut ticks));
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn tick(state: &mut State, ticks: &mut u64) {
    *ticks += 1;
    state.stats.ticks += 1;
    state.held.vals[(*ticks as usize) % SLOTS] = *ticks;
    state.ring.push(Default::default());
    state.timing.phase = state.timing.phase.wrapping_add(1);
    let mut out = std::io::stdout().lock();
    let written = writeln!(
        out,
        "tick={} ticks={} slots={} head={} mode={} msg={} pid={}",
        ticks,
        state.stats.ticks,
        state.held.vals.len(),
        state.ring.head,
        state.flags.mode(),
        message(),
        std::process::id()
    )
    .and_then(|_| out.flush());
    if written.is_err() {
        std::process::exit(0); // stdout gone: an orphaned fixture should not linger
    }
}

/// Shown in every line as `msg=...`.
#[inline(never)]
fn message() -> &'static str {
    "msg-v1"
}
