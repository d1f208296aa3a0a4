//! Zed extension: starts `subsecond-lsp --stdio` for Rust files, next to rust-analyzer.
//!
//! The server binary is not downloaded: it comes from `lsp.subsecond-lsp.binary.path` in
//! settings.json or from the worktree's PATH. Its settings are `lsp.subsecond-lsp.settings`,
//! handed to the server under the "subsecond" section it asks for.

use zed_extension_api::{
    self as zed, serde_json, settings::LspSettings, LanguageServerId, Result, Worktree,
};

const SERVER_BINARY: &str = "subsecond-lsp";
const SETTINGS_SECTION: &str = "subsecond";

struct SubsecondExtension;

/// The user's `lsp.subsecond-lsp` block; missing or malformed settings mean defaults.
fn lsp_settings(id: &LanguageServerId, worktree: &Worktree) -> LspSettings {
    LspSettings::for_worktree(id.as_ref(), worktree).unwrap_or_default()
}

/// Accepts both `{ "autoPatch": true }` and `{ "subsecond": { "autoPatch": true } }` from the user
/// and always returns the latter: the server pulls the "subsecond" section.
fn sectioned(settings: Option<serde_json::Value>) -> serde_json::Value {
    match settings {
        Some(serde_json::Value::Object(map)) if map.contains_key(SETTINGS_SECTION) => {
            serde_json::Value::Object(map)
        }
        Some(value) => serde_json::json!({ SETTINGS_SECTION: value }),
        None => serde_json::json!({ SETTINGS_SECTION: {} }),
    }
}

impl zed::Extension for SubsecondExtension {
    fn new() -> Self {
        SubsecondExtension
    }

    fn language_server_command(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<zed::Command> {
        let binary = lsp_settings(language_server_id, worktree).binary;
        let (path, arguments, extra_env) = match binary {
            Some(b) => (b.path, b.arguments, b.env),
            None => (None, None, None),
        };

        let command = match path {
            Some(path) => path,
            None => worktree.which(SERVER_BINARY).ok_or_else(|| {
                format!(
                    "{SERVER_BINARY} was not found on PATH; install it or set \
                     lsp.{SERVER_BINARY}.binary.path in settings.json"
                )
            })?,
        };
        // Without --stdio the server prints its usage and exits.
        let args = arguments.unwrap_or_else(|| vec!["--stdio".to_string()]);

        // The login shell's environment, so the server (a node script) finds node and cargo even
        // when Zed was started from a desktop launcher with a minimal PATH.
        let mut env = worktree.shell_env();
        for (key, value) in extra_env.unwrap_or_default() {
            env.retain(|(k, _)| k != &key);
            env.push((key, value));
        }

        Ok(zed::Command { command, args, env })
    }

    fn language_server_initialization_options(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<serde_json::Value>> {
        let settings = lsp_settings(language_server_id, worktree);
        // Explicit initialization_options win; otherwise the same settings the server would pull.
        Ok(Some(match settings.initialization_options {
            Some(options) => options,
            None => sectioned(settings.settings),
        }))
    }

    fn language_server_workspace_configuration(
        &mut self,
        language_server_id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<serde_json::Value>> {
        Ok(Some(sectioned(
            lsp_settings(language_server_id, worktree).settings,
        )))
    }
}

zed::register_extension!(SubsecondExtension);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_wrapped_in_the_subsecond_section_once() {
        let flat = serde_json::json!({ "autoPatch": false });
        assert_eq!(
            sectioned(Some(flat.clone())),
            serde_json::json!({ "subsecond": flat })
        );
        let already = serde_json::json!({ "subsecond": { "bin": "app" } });
        assert_eq!(sectioned(Some(already.clone())), already);
        assert_eq!(sectioned(None), serde_json::json!({ "subsecond": {} }));
    }
}
