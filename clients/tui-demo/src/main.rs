//! tui-demo: a ratatui app written the usual way, for end-to-end tests of terminal apps. It takes
//! over the terminal (`ratatui::init()`: raw mode, alternate screen), draws a bordered box whose
//! title is `title()` and a frame counter, and quits on `q` (restoring the terminal).
//!
//! Tests edit the string returned by `title()` and look for the new one on the screen. ratatui
//! only redraws the cells that changed, so the new title should differ from the old one at every
//! position (then it is written as one contiguous run and can be found in the raw output).

use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::DefaultTerminal;

/// The app's state, kept across patches.
pub struct State {
    pub frames: u64,
    pub quit: bool,
}

fn main() {
    subsecond_agent::connect();
    let mut terminal = ratatui::init();
    let mut state = State { frames: 0, quit: false };
    while !state.quit {
        // Two captures: subsecond 0.7 mistakes a pointer-sized closure for a fn pointer.
        subsecond::call(|| frame(&mut terminal, &mut state));
    }
    ratatui::restore();
}

fn frame(terminal: &mut DefaultTerminal, state: &mut State) {
    state.frames += 1;
    let frames = state.frames;
    let _ = terminal.draw(|f| {
        let text = format!("frame {frames}  pid {}  (q quits)", std::process::id());
        f.render_widget(Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(title())), f.area());
    });
    if event::poll(Duration::from_millis(100)).unwrap_or(false) {
        if let Ok(Event::Key(k)) = event::read() {
            if k.kind == KeyEventKind::Press && k.code == KeyCode::Char('q') {
                state.quit = true;
            }
        }
    }
}

/// The box's title.
#[inline(never)]
fn title() -> &'static str {
    "tui-one"
}
