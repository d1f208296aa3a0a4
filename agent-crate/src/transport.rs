//! The agent thread: WebSocket client, patch application, result reports, reconnects.
//! Owns the socket; never decides what to patch beyond "is it addressed to my pid".

use std::net::TcpStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use subsecond::JumpTable;
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::image;
use crate::library;
use crate::protocol::{self, AgentMsg, DevserverMsg};

/// Handshake header carrying the launch secret: it lets the server serve a connection it cannot
/// attribute by process (a tunnel, another machine or pid namespace).
const SECRET_HEADER: &str = "x-subsecond-lsp-secret";

const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Short enough that an app re-attaches quickly after the server restarts, long enough to be
/// invisible in CPU use while no server is there.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

struct Config {
    url: String,
    pid: u32,
    report: bool,
    /// Per-launch secret from subsecond-lsp, sent in the handshake and echoed in `Hello`.
    secret: Option<String>,
    /// The launch's probe file (`SUBSECOND_LSP_PROBE`): whether we can read it tells the server
    /// whether to send patch libraries as paths or as bytes.
    probe: Option<String>,
    /// The subsecond-lsp process that launched this app (`SUBSECOND_LSP_PARENT_PID`): when it is
    /// gone, so is the reason for this app to run (the server's parent-death signal is the first
    /// line of defence; this covers a server killed before that signal was armed).
    launcher: Option<i32>,
}

pub(crate) fn start_once() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let (Ok(ip), Ok(port)) = (std::env::var("DIOXUS_DEVSERVER_IP"), std::env::var("DIOXUS_DEVSERVER_PORT")) else {
        return;
    };
    if ip.is_empty() || port.is_empty() {
        return;
    }
    let build_id = std::env::var("DIOXUS_BUILD_ID").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let report = std::env::var("SUBSECOND_LSP").is_ok_and(|v| v == "1");
    let secret = std::env::var("SUBSECOND_LSP_SECRET").ok().filter(|s| !s.is_empty());
    let probe = std::env::var("SUBSECOND_LSP_PROBE").ok().filter(|s| !s.is_empty());
    let launcher = std::env::var("SUBSECOND_LSP_PARENT_PID").ok().and_then(|v| v.parse::<i32>().ok()).filter(|p| *p > 1);
    let pid = std::process::id();
    let spawned = std::thread::Builder::new().name("subsecond-agent".into()).spawn(move || {
        // Found here rather than on the caller's thread: without an exported `main` this reads the
        // executable's symbol table, which must not delay the app's start.
        let main = image::runtime_main_address() as u64;
        let url = protocol::connect_url(&ip, &port, main, build_id, pid);
        run(Config { url, pid, report, secret, probe, launcher })
    });
    if let Err(err) = spawned {
        eprintln!("[subsecond-agent] could not start its thread: {err}");
    }
}

fn run(config: Config) {
    let mut backoff = MIN_BACKOFF;
    loop {
        // A panic in here (a bug, or in subsecond) must not end hot-patching for good.
        let connected = catch_unwind(AssertUnwindSafe(|| session(&config))).unwrap_or(false);
        if let Some(launcher) = config.launcher {
            if launcher_gone(launcher) {
                eprintln!("[subsecond-agent] subsecond-lsp (pid {launcher}), which launched this app, is gone: exiting");
                std::process::exit(1);
            }
        }
        if connected {
            backoff = MIN_BACKOFF;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The launching server is no longer this process's parent (it died: we were re-parented).
fn launcher_gone(launcher: i32) -> bool {
    // SAFETY: getppid has no preconditions and cannot fail.
    unsafe { libc::getppid() != launcher }
}

/// One connection, until it closes. Returns whether the handshake succeeded.
fn session(config: &Config) -> bool {
    let Ok(mut request) = config.url.as_str().into_client_request() else {
        return false;
    };
    if let Some(value) = config.secret.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
        request.headers_mut().insert(SECRET_HEADER, value);
    }
    let Ok((mut ws, _response)) = tungstenite::connect(request) else {
        return false;
    };
    if config.report {
        let hello = AgentMsg::Hello {
            pid: config.pid,
            agent_version: crate::AGENT_VERSION,
            secret: config.secret.clone(),
            probe: library::read_probe(config.probe.as_deref()),
        };
        if send(&mut ws, hello).is_err() {
            return true;
        }
    }
    let mut detour_plan = None;
    let mut inbox = library::Inbox::default();
    let mut migrate_plan: Option<crate::migrate::MigratePlan> = None;
    let mut types_reported = hot_state_types::Reported::new(&mut ws, config.report);
    loop {
        if config.report && types_reported.send_if_changed(&mut ws, config.pid).is_err() {
            return true;
        }
        let text = match ws.read() {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(chunk)) => {
                inbox.push(&chunk); // part of an announced patch library
                continue;
            }
            Err(tungstenite::Error::Io(e)) if hot_state_types::is_timeout(&e) => continue,
            Ok(Message::Close(_)) | Err(_) => return true,
            Ok(_) => continue, // pings are answered by tungstenite
        };
        if let Some(header) = library::parse_header(text.as_str()) {
            inbox.announce(header);
            continue;
        }
        if let Some(plan) = crate::detour::parse_plan(text.as_str()) {
            detour_plan = Some(plan); // applies to the HotReload frame that follows
            continue;
        }
        if let Some(plan) = crate::migrate::parse_plan(text.as_str()) {
            migrate_plan = Some(plan); // applies to the HotReload frame of the same lib
            continue;
        }
        let Some(msg) = protocol::parse_devserver_msg(text.as_str()) else {
            continue;
        };
        if let DevserverMsg::Shutdown = msg {
            // The server is going away; the read loop ends when it closes, then we retry.
            continue;
        }
        let Some(mut table) = protocol::table_for_pid(msg, config.pid) else {
            continue;
        };
        // Reports name the library as the server did, whatever local file holds it.
        let lib = table.lib.display().to_string();
        let migrate = migrate_plan.take().filter(|plan| plan.lib == lib);
        let mut result = match inbox.take(&lib).map(|bytes| bytes.and_then(|b| library::materialize(&lib, &b))) {
            Some(Err(err)) => failed(lib, table.map.len(), config.pid, err),
            Some(Ok(local)) => {
                table.lib = local;
                apply_or_migrate(table, migrate, config.pid, lib)
            }
            None => apply_or_migrate(table, migrate, config.pid, lib),
        };
        if let AgentMsg::PatchResult { ok: true, lib, detours, apply_micros, .. } = &mut result {
            *detours = detour_plan.take().and_then(|plan| crate::detour::apply_plan(plan, lib));
            *apply_micros += detours.as_ref().map_or(0, |d| d.micros);
        }
        if let AgentMsg::PatchResult { ok: false, error: Some(err), lib, .. } = &result {
            eprintln!("[subsecond-agent] patch {lib} not applied: {err}");
        }
        if config.report && send(&mut ws, result).is_err() {
            return true;
        }
    }
}

fn send(ws: &mut WebSocket<MaybeTlsStream<TcpStream>>, msg: AgentMsg) -> Result<(), tungstenite::Error> {
    ws.send(Message::text(msg.into_json()))
}

/// A patch that was not applied, reported under the library's name as the server sent it.
fn failed(lib: String, entries: usize, pid: u32, error: String) -> AgentMsg {
    AgentMsg::PatchResult { lib, ok: false, error: Some(error), apply_micros: 0, entries, pid, detours: None, migrated: None }
}

/// The table applied, migrating the HotState values the server named for this library if any.
fn apply_or_migrate(table: JumpTable, migrate: Option<crate::migrate::MigratePlan>, pid: u32, lib: String) -> AgentMsg {
    match migrate {
        Some(plan) => hot_state_types::apply_migrating(table, plan.types, pid, lib),
        None => apply(table, pid, lib),
    }
}

/// Applies one table and describes the outcome under `lib`, the library's name as the server sent
/// it (the table may name a local copy). Checks first what subsecond would otherwise turn into a
/// panic (or an integer overflow), then catches any panic that remains.
fn apply(table: JumpTable, pid: u32, lib: String) -> AgentMsg {
    let entries = table.map.len();
    let start = Instant::now();
    let outcome = apply_checked(table);
    let apply_micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let (ok, error) = match outcome {
        Ok(()) => (true, None),
        Err(e) => (false, Some(e)),
    };
    AgentMsg::PatchResult { lib, ok, error, apply_micros, entries, pid, detours: None, migrated: None }
}

/// `subsecond::apply_patch` after the checks, its panics caught.
pub(crate) fn apply_checked(table: JumpTable) -> Result<(), String> {
    precheck(&table).and_then(|()| match catch_unwind(AssertUnwindSafe(|| unsafe { subsecond::apply_patch(table) })) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(panic) => Err(format!("subsecond::apply_patch panicked: {}", panic_text(&*panic))),
    })
}

/// The agent thread's `HotState` duties: reporting the handles' types, migrating their values.
mod hot_state_types {
    use super::*;

    /// The socket's read timeout while `HotState` handles may appear: how soon a new handle's
    /// type reaches the server.
    #[cfg(feature = "hot-state")]
    const POLL: Duration = Duration::from_millis(200);

    pub(super) struct Reported {
        #[cfg(feature = "hot-state")]
        generation: Option<u64>,
        /// What the server was last told (nothing yet: an empty list is not worth a frame).
        #[cfg(feature = "hot-state")]
        sent: Vec<String>,
    }

    impl Reported {
        /// Sets the read timeout that lets the loop notice new handles (only with the feature
        /// and when reporting: otherwise reads block as before).
        pub(super) fn new(ws: &mut WebSocket<MaybeTlsStream<TcpStream>>, report: bool) -> Self {
            #[cfg(feature = "hot-state")]
            if report {
                if let MaybeTlsStream::Plain(stream) = ws.get_mut() {
                    let _ = stream.set_read_timeout(Some(POLL));
                }
            }
            let _ = (ws, report);
            Reported {
                #[cfg(feature = "hot-state")]
                generation: None,
                #[cfg(feature = "hot-state")]
                sent: Vec::new(),
            }
        }

        pub(super) fn send_if_changed(&mut self, ws: &mut WebSocket<MaybeTlsStream<TcpStream>>, pid: u32) -> Result<(), tungstenite::Error> {
            #[cfg(feature = "hot-state")]
            {
                let now = crate::hot_state::GENERATION.load(std::sync::atomic::Ordering::SeqCst);
                if self.generation != Some(now) {
                    self.generation = Some(now);
                    let types = crate::hot_state::registered_types();
                    if types != self.sent {
                        self.sent = types.clone();
                        return send(ws, AgentMsg::HotStateTypes { pid, types });
                    }
                }
            }
            let _ = (ws, pid);
            Ok(())
        }
    }

    pub(super) fn is_timeout(e: &std::io::Error) -> bool {
        matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    }

    /// Applies `table` migrating the values of `types`, all or nothing (migrate.rs).
    pub(super) fn apply_migrating(table: JumpTable, types: Vec<String>, pid: u32, lib: String) -> AgentMsg {
        let entries = table.map.len();
        let start = Instant::now();
        #[cfg(feature = "hot-state")]
        let outcome = crate::migrate::migrate_and_apply(table, &types, apply_checked);
        #[cfg(not(feature = "hot-state"))]
        let outcome: Result<Vec<String>, String> = {
            let _ = (table, types);
            Err("the server asked to migrate HotState values, but this subsecond-agent was built without its `hot-state` feature".into())
        };
        let apply_micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(migrated) => AgentMsg::PatchResult { lib, ok: true, error: None, apply_micros, entries, pid, detours: None, migrated: Some(migrated) },
            Err(e) => AgentMsg::PatchResult { lib, ok: false, error: Some(e), apply_micros, entries, pid, detours: None, migrated: None },
        }
    }
}

fn precheck(table: &JumpTable) -> Result<(), String> {
    if !Path::new(&table.lib).is_file() {
        return Err(format!("patch library {} does not exist", table.lib.display()));
    }
    let main = subsecond::aslr_reference();
    if main == 0 {
        return Err("this executable does not export `main` dynamically, so subsecond cannot locate it; \
                    link with -Wl,--export-dynamic (subsecond-lsp's fat build does) or \
                    -Wl,--export-dynamic-symbol,main (dx does)"
            .into());
    }
    if table.aslr_reference as usize > main {
        return Err(format!(
            "patch was built for another process image (its main is at {:#x}, ours at {main:#x})",
            table.aslr_reference
        ));
    }
    Ok(())
}

pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lib: &str) -> JumpTable {
        JumpTable {
            lib: lib.into(),
            map: Default::default(),
            aslr_reference: 0,
            new_base_address: 0,
            ifunc_count: 0,
        }
    }

    #[test]
    fn missing_library_is_a_clear_failure() {
        match apply(table("/nonexistent/libnothing-patch-1.so"), 9, "/nonexistent/libnothing-patch-1.so".into()) {
            AgentMsg::PatchResult { ok, error, lib, pid, entries, .. } => {
                assert!(!ok);
                assert_eq!(lib, "/nonexistent/libnothing-patch-1.so");
                assert_eq!((pid, entries), (9, 0));
                assert!(error.unwrap().contains("does not exist"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unloadable_library_fails_without_panicking() {
        // An existing file that is not a shared object: dlopen must fail and be reported.
        let path = std::env::temp_dir().join(format!("subsecond-agent-test-{}.so", std::process::id()));
        std::fs::write(&path, b"not an elf").unwrap();
        let result = apply(table(path.to_str().unwrap()), 1, path.display().to_string());
        std::fs::remove_file(&path).ok();
        match result {
            AgentMsg::PatchResult { ok, error, .. } => {
                assert!(!ok);
                assert!(!error.unwrap().is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
