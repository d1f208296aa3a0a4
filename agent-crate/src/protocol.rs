//! Wire format of the devserver connection (the one `dx serve` speaks) plus the agent's own
//! report messages. Pure data and pure functions: no sockets, no patching, so it is unit-testable.

use serde::{Deserialize, Serialize};
use subsecond::JumpTable;

/// Server → app messages. Mirrors dx's `DevserverMsg` (serde's externally tagged form), declared
/// here so the agent does not pull in dioxus-devtools (and with it dioxus-core).
/// Anything that does not parse as one of these is ignored by the caller, which is how new
/// variants added by a future dx stay harmless.
#[derive(Debug, Deserialize)]
pub(crate) enum DevserverMsg {
    HotReload(HotReloadMsg),
    HotPatchStart,
    FullReloadStart,
    FullReloadFailed,
    FullReloadCommand,
    Shutdown,
}

/// The fields of dx's `HotReloadMsg` the agent needs; `templates`/`assets` are RSX concerns and
/// are skipped (serde ignores unknown fields).
#[derive(Debug, Deserialize)]
pub(crate) struct HotReloadMsg {
    #[serde(default)]
    pub jump_table: Option<JumpTable>,
    #[serde(default)]
    #[allow(dead_code)] // kept for Debug output; filtering is by pid like dx's connect_subsecond
    pub for_build_id: Option<u64>,
    #[serde(default)]
    pub for_pid: Option<u32>,
}

/// Parses one text frame. `None` for anything unknown or malformed.
pub(crate) fn parse_devserver_msg(text: &str) -> Option<DevserverMsg> {
    serde_json::from_str(text).ok()
}

/// The jump table to apply, if this message carries one addressed to `our_pid`.
/// A table with `for_pid: null` is dx replaying its last patch to a newly connected client: that
/// patch was built against another process image, so applying it could jump into garbage.
pub(crate) fn table_for_pid(msg: DevserverMsg, our_pid: u32) -> Option<JumpTable> {
    match msg {
        DevserverMsg::HotReload(HotReloadMsg {
            jump_table: Some(table),
            for_pid: Some(pid),
            ..
        }) if pid == our_pid => Some(table),
        _ => None,
    }
}

/// `ws://IP:PORT/_dioxus`, bracketing IPv6 literals.
pub(crate) fn endpoint(ip: &str, port: &str) -> String {
    if ip.contains(':') && !ip.starts_with('[') {
        format!("ws://[{ip}]:{port}/_dioxus")
    } else {
        format!("ws://{ip}:{port}/_dioxus")
    }
}

/// The full connect URL; query parameter names and decimal encoding are what dx parses.
pub(crate) fn connect_url(ip: &str, port: &str, aslr_reference: u64, build_id: u64, pid: u32) -> String {
    format!(
        "{}?aslr_reference={aslr_reference}&build_id={build_id}&pid={pid}",
        endpoint(ip, port)
    )
}

/// App → server messages, only ever sent when `SUBSECOND_LSP=1` (dx logs an error for every
/// client text frame it cannot parse as its own `ClientMsg`).
#[derive(Debug, Serialize, PartialEq)]
pub(crate) enum AgentEnvelope {
    SubsecondAgent(AgentMsg),
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) enum AgentMsg {
    /// `agent_version` lets the server refuse a version it cannot serve with a clear message;
    /// `secret` is the per-launch secret subsecond-lsp gave this process (`SUBSECOND_LSP_SECRET`):
    /// it proves the connection comes from the process the server launched. `probe` is what this
    /// process read from the launch's probe file (`SUBSECOND_LSP_PROBE`), `null` when it could not:
    /// always present, it also says this agent can take patch libraries as bytes.
    Hello {
        pid: u32,
        agent_version: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        probe: Option<String>,
    },
    PatchResult {
        lib: String,
        ok: bool,
        error: Option<String>,
        apply_micros: u64,
        entries: usize,
        pid: u32,
        /// Entry detours done after the patch (only when the server sent a plan for it).
        #[serde(skip_serializing_if = "Option::is_none")]
        detours: Option<crate::detour::DetourReport>,
        /// Types whose `HotState` values were migrated with this patch (only when the server
        /// sent a `MigrateState` for it and the patch applied).
        #[serde(skip_serializing_if = "Option::is_none")]
        migrated: Option<Vec<String>>,
    },
    /// The types of the app's live `HotState` handles (`std::any::type_name`), sent after `Hello`
    /// when there are any and again whenever a handle is made.
    #[cfg_attr(not(feature = "hot-state"), allow(dead_code))]
    HotStateTypes { pid: u32, types: Vec<String> },
}

impl AgentMsg {
    pub(crate) fn into_json(self) -> String {
        // Serialising these plain structs cannot fail; an empty object keeps the caller total.
        serde_json::to_string(&AgentEnvelope::SubsecondAgent(self)).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hot_reload(table: &str, for_pid: &str) -> String {
        format!(
            r#"{{"HotReload":{{"templates":[],"assets":[],"ms_elapsed":12,"jump_table":{table},"for_build_id":0,"for_pid":{for_pid}}}}}"#
        )
    }

    const TABLE: &str = r#"{"lib":"/tmp/libapp-patch-1.so","map":{"4198400":12288,"4198500":12400},"aslr_reference":4198000,"new_base_address":4096,"ifunc_count":0}"#;

    #[test]
    fn parses_hot_reload_with_string_keys() {
        let msg = parse_devserver_msg(&hot_reload(TABLE, "77")).expect("parses");
        let table = table_for_pid(msg, 77).expect("addressed to us");
        assert_eq!(table.lib.to_str(), Some("/tmp/libapp-patch-1.so"));
        assert_eq!(table.map.get(&4198400), Some(&12288));
        assert_eq!(table.map.len(), 2);
        assert_eq!(table.aslr_reference, 4198000);
        assert_eq!(table.new_base_address, 4096);
    }

    #[test]
    fn ignores_other_pid_and_replays() {
        let other = parse_devserver_msg(&hot_reload(TABLE, "78")).unwrap();
        assert!(table_for_pid(other, 77).is_none());
        let replay = parse_devserver_msg(&hot_reload(TABLE, "null")).unwrap();
        assert!(table_for_pid(replay, 77).is_none());
        let no_table = parse_devserver_msg(&hot_reload("null", "77")).unwrap();
        assert!(table_for_pid(no_table, 77).is_none());
    }

    #[test]
    fn parses_unit_variants_and_ignores_unknown() {
        assert!(matches!(parse_devserver_msg(r#""HotPatchStart""#), Some(DevserverMsg::HotPatchStart)));
        assert!(matches!(parse_devserver_msg(r#""Shutdown""#), Some(DevserverMsg::Shutdown)));
        assert!(matches!(parse_devserver_msg(r#""FullReloadCommand""#), Some(DevserverMsg::FullReloadCommand)));
        assert!(parse_devserver_msg(r#""SomethingNew""#).is_none());
        assert!(parse_devserver_msg(r#"{"NewThing":{"a":1}}"#).is_none());
        assert!(parse_devserver_msg("not json").is_none());
        // Missing optional fields default rather than fail.
        assert!(matches!(parse_devserver_msg(r#"{"HotReload":{}}"#), Some(DevserverMsg::HotReload(_))));
    }

    #[test]
    fn builds_urls() {
        assert_eq!(
            connect_url("127.0.0.1", "8080", 94_000_000_123, 0, 42),
            "ws://127.0.0.1:8080/_dioxus?aslr_reference=94000000123&build_id=0&pid=42"
        );
        assert_eq!(endpoint("::1", "9"), "ws://[::1]:9/_dioxus");
        assert_eq!(endpoint("[::1]", "9"), "ws://[::1]:9/_dioxus");
    }

    #[test]
    fn serialises_reports() {
        assert_eq!(
            AgentMsg::Hello { pid: 5, agent_version: "0.1.0", secret: None, probe: None }.into_json(),
            r#"{"SubsecondAgent":{"Hello":{"pid":5,"agent_version":"0.1.0","probe":null}}}"#
        );
        assert_eq!(
            AgentMsg::Hello { pid: 5, agent_version: "0.1.0", secret: Some("ab12".into()), probe: Some("9f".into()) }.into_json(),
            r#"{"SubsecondAgent":{"Hello":{"pid":5,"agent_version":"0.1.0","secret":"ab12","probe":"9f"}}}"#
        );
        assert_eq!(
            AgentMsg::PatchResult {
                lib: "/a/lib.so".into(),
                ok: false,
                error: Some("boom".into()),
                apply_micros: 3,
                entries: 2,
                pid: 5,
                detours: None,
                migrated: None,
            }
            .into_json(),
            r#"{"SubsecondAgent":{"PatchResult":{"lib":"/a/lib.so","ok":false,"error":"boom","apply_micros":3,"entries":2,"pid":5}}}"#
        );
        assert_eq!(
            AgentMsg::HotStateTypes { pid: 5, types: vec!["counter::State".into()] }.into_json(),
            r#"{"SubsecondAgent":{"HotStateTypes":{"pid":5,"types":["counter::State"]}}}"#
        );
    }
}
