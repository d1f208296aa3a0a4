//! The diff itself: `dioxus_rsx_hotreload::diff_rsx` says whether only the contents of `rsx!`
//! calls changed; `HotReloadResult::new::<HtmlCtx>` turns each call into the templates the app's
//! dioxus-core can swap in (static text, literal attributes, formatted-text segments), or refuses
//! when a dynamic part changed. The key of each template is where the `rsx!` call starts in the
//! OLD text (the code the app runs was compiled from it: `file!()`, `line!()`, `column!()`).

use dioxus_core::internal::{HotReloadTemplateWithLocation, TemplateGlobalKey};
use dioxus_html::HtmlCtx;
use dioxus_rsx::CallBody;
use dioxus_rsx_hotreload::{diff_rsx, ChangedRsx, HotReloadResult};
use serde::Serialize;
use syn::spanned::Spanned;

#[derive(Serialize, Debug)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outcome {
    /// Only `rsx!` contents changed, in ways templates can carry.
    #[serde(rename_all = "camelCase")]
    Templates {
        /// Every template of every `rsx!` call of the file (as dx computes them; the caller drops
        /// those it already sent), sorted by key.
        templates: Vec<HotReloadTemplateWithLocation>,
        /// How many `rsx!` calls differ from the old text (token by token).
        changed_calls: usize,
        /// How many `rsx!` calls the file has.
        calls: usize,
    },
    /// Anything else: the change needs a compile.
    NeedsBuild { reason: String },
}

pub fn templates_for(old: &str, new: &str, file: &str) -> Outcome {
    let outcome = compute(old, new, file);
    // proc-macro2 outside a macro keeps every parsed text in a per-thread source map for span
    // locations; nothing holds a span past this point, so let it go (a long-lived instance).
    proc_macro2::extra::invalidate_current_thread_spans();
    outcome
}

fn needs_build(reason: impl Into<String>) -> Outcome {
    Outcome::NeedsBuild { reason: reason.into() }
}

fn compute(old: &str, new: &str, file: &str) -> Outcome {
    let old_file = match syn::parse_file(old) {
        Ok(f) => f,
        Err(err) => return needs_build(format!("the built text does not parse: {err}")),
    };
    let new_file = match syn::parse_file(new) {
        Ok(f) => f,
        Err(err) => {
            let at = err.span().start();
            return needs_build(format!("the file does not parse (line {}): {err}", at.line));
        }
    };
    let Some(calls) = diff_rsx(&new_file, &old_file) else {
        return needs_build("code outside rsx! changed (or the number of rsx! calls)");
    };
    let count = calls.len();
    let mut changed_calls = 0;
    let mut templates = Vec::new();
    for ChangedRsx { old, new } in calls {
        let start = old.span().start();
        let new_line = new.span().start().line;
        if old.tokens.to_string() != new.tokens.to_string() {
            changed_calls += 1;
        }
        let old_body = match syn::parse2::<CallBody>(old.tokens) {
            Ok(b) => b,
            Err(err) => return needs_build(format!("the built rsx! at line {} does not parse: {err}", start.line)),
        };
        let new_body = match syn::parse2::<CallBody>(new.tokens) {
            Ok(b) => b,
            Err(err) => return needs_build(format!("the rsx! at line {new_line} does not parse: {err}")),
        };
        let Some(result) = HotReloadResult::new::<HtmlCtx>(&old_body.body, &new_body.body, file.to_string()) else {
            return needs_build(format!(
                "a dynamic part of the rsx! at line {new_line} changed (an expression, a component, a loop or a condition)"
            ));
        };
        for (index, template) in result.templates {
            if template.roots.is_empty() {
                continue;
            }
            // line: 1-based; column: proc-macro2 counts from 0, rustc's column!() from 1.
            let key = TemplateGlobalKey { file: file.to_string(), line: start.line, column: start.column + 1, index };
            templates.push(HotReloadTemplateWithLocation { key, template });
        }
    }
    templates.sort_by(|a, b| a.key.cmp(&b.key));
    Outcome::Templates { templates, changed_calls, calls: count }
}
