//! egui-demo: an eframe app hot-patched with subsecond. The whole `App::ui` body runs inside
//! `subsecond::call`, so tip-crate code (this file, my_component.rs) is hot; the workspace crate's
//! UI is called through `subsecond_agent::hot!`, which resolves it through the jump table by its
//! original address (a plain call from patched tip code may still reach the old copy).

mod my_component;

use std::sync::Arc;

use eframe::egui;

#[derive(Default)]
struct DemoApp {
    clicks: u32,
    name: String,
    settings: egui_demo_widgets::Settings,
}

fn main() -> eframe::Result {
    subsecond_agent::connect();

    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([520.0, 360.0])
            .with_title("egui-demo (subsecond)"),
        ..Default::default()
    };
    eframe::run_native(
        "egui-demo",
        options,
        Box::new(|cc| {
            // egui only repaints on input; repaint right after a patch so the change shows at once.
            let ctx = cc.egui_ctx.clone();
            subsecond::register_handler(Arc::new(move || ctx.request_repaint()));
            Ok(Box::new(DemoApp::default()))
        }),
    )
}

impl eframe::App for DemoApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        // The closure captures three references (not pointer-sized), so subsecond looks up the
        // closure's own code in the jump table: the newest `frame_ui` runs every frame.
        subsecond::call(|| self.frame_ui(ui, frame));
    }
}

impl DemoApp {
    fn frame_ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show_inside(ui, |ui| {
            ui.heading("Hello from subsecond");
            ui.horizontal(|ui| {
                ui.label("Your name:");
                ui.text_edit_singleline(&mut self.name);
            });
            if !self.name.is_empty() {
                ui.label(format!("Hi, {}!", self.name));
            }
            my_component::counter_row(ui, &mut self.clicks);
            ui.separator();
            subsecond_agent::hot!(egui_demo_widgets::settings_panel)(ui, &mut self.settings);
        });
    }
}
