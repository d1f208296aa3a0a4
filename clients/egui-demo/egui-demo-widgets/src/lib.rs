//! egui-demo-widgets: the workspace (non-tip) crate of the egui demo. Its functions are called from
//! the tip crate through `subsecond_agent::hot!`, so edits here show up in the running window too.

use eframe::egui;

/// State owned by the app and handed to this crate's UI each frame. Changing its fields changes
/// its layout: that needs a restart (subsecond-lsp warns about it).
pub struct Settings {
    pub volume: f32,
    pub dark: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self { volume: 0.5, dark: true }
    }
}

/// The settings panel. Try changing the label texts or the slider range and save.
#[inline(never)]
pub fn settings_panel(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.heading("Settings (workspace crate)");
    ui.add(egui::Slider::new(&mut settings.volume, 0.0..=1.0).text("volume"));
    ui.checkbox(&mut settings.dark, "dark mode");
    let visuals = if settings.dark { egui::Visuals::dark() } else { egui::Visuals::light() };
    ui.ctx().set_visuals(visuals);
}
