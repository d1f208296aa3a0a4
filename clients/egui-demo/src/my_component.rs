//! A component in the tip crate: everything here is hot through the `subsecond::call` in `App::ui`.

use eframe::egui;

/// A click counter row. Try editing the text or the increment and save.
pub fn counter_row(ui: &mut egui::Ui, clicks: &mut u32) {
    ui.horizontal(|ui| {
        if ui.button("click me").clicked() {
            *clicks += 1;
        }
        ui.label(format!("clicked {clicks} times (tip crate)"));
    });
}
