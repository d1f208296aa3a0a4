#!/usr/bin/env bash
# Real-client smoke test: headless Neovim with this plugin and subsecond-lsp on a throwaway cargo
# project. Opens src/main.rs, adds a struct field, saves, and checks the diagnostics contain
# struct-layout-changed shown as virtual text with Neovim's default diagnostic config, the lenses
# (running one starts the app), the restart quick fix from anywhere on the item, and the app's
# output in :SubsecondLog.
#
# usage: editors/neovim/test/smoke.sh [--stub]
#   --stub   talk to test/stub-server.js instead of the real server: tests the plugin alone
# env:
#   NVIM_BIN                    Neovim binary (default: nvim on PATH); needs 0.10+
#   SUBSECOND_LSP_CMD           server command line (default: the repo's server/bin, --stdio)
#   SUBSECOND_SMOKE_TIMEOUT_MS  per-step wait (default 60000)
#   SUBSECOND_SMOKE_REQUIRE=1   a missing or too old Neovim / unbuilt server fails instead of skipping
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
plugin=$(dirname "$here")
repo=$(cd "$plugin/../.." && pwd)

skip() {
  if [ "${SUBSECOND_SMOKE_REQUIRE:-0}" = 1 ]; then
    echo "smoke: FAIL: $*" >&2
    exit 1
  fi
  echo "smoke: skipped: $*"
  exit 0
}

# Not $NVIM: Neovim sets that to its socket inside :terminal.
nvim=${NVIM_BIN:-nvim}
command -v "$nvim" >/dev/null 2>&1 || skip "no Neovim found (set NVIM_BIN)"
new_enough=$("$nvim" --headless --clean +'lua io.stdout:write(tostring(vim.fn.has("nvim-0.10")))' +'qa!' 2>/dev/null || true)
[ "$new_enough" = 1 ] || skip "$("$nvim" --version | head -1) is older than 0.10 (vim.lsp.start and friends)"
command -v node >/dev/null 2>&1 || skip "node is not on PATH"

to_json() { node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@"; }
if [ "${1:-}" = --stub ]; then
  server_cmd=$(to_json node "$here/stub-server.js")
  export SUBSECOND_SMOKE_STUB=1
elif [ -n "${SUBSECOND_LSP_CMD:-}" ]; then
  # shellcheck disable=SC2086 # a command line: word splitting is the point
  server_cmd=$(to_json $SUBSECOND_LSP_CMD)
else
  [ -f "$repo/out/server/src/cli.js" ] || skip "the server is not built (npm ci at the repo root)"
  server_cmd=$(to_json node "$repo/server/bin/subsecond-lsp.js" --stdio)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/subsecond-nvim-smoke-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
project="$tmp/demo"
mkdir -p "$project/src"
cat >"$project/Cargo.toml" <<'EOF'
[package]
name = "demo"
version = "0.1.0"
edition = "2021"

[dependencies]
EOF
# App is not on line 1: its lens and quick fix must be on the item, not at the top of the file.
# The app connects to the devserver as a plain dx-compatible client would (a WebSocket handshake
# with its pid, std only: no crates to build) and prints a tick every 200 ms.
cat >"$project/src/main.rs" <<'EOF'
// A throwaway app for the smoke test.
use std::io::{Read, Write};

pub struct App {
    pub count: u64,
    pub name: String,
}

fn tick(app: &mut App) {
    app.count += 1;
}

extern "C" {
    fn dlsym(handle: *mut std::ffi::c_void, symbol: *const std::ffi::c_char) -> *mut std::ffi::c_void;
}

fn connect() -> Option<std::net::TcpStream> {
    let ip = std::env::var("DIOXUS_DEVSERVER_IP").ok()?;
    let port = std::env::var("DIOXUS_DEVSERVER_PORT").ok()?;
    let mut s = std::net::TcpStream::connect(format!("{ip}:{port}")).ok()?;
    let request = format!(
        "GET /_dioxus?aslr_reference={}&pid={}&build_id=0 HTTP/1.1\r\nHost: {ip}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c21va2UtdGVzdC1rZXkhIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        // the C `main` rustc generates, as subsecond reports it (patches are computed against it)
        unsafe { dlsym(std::ptr::null_mut(), c"main".as_ptr()) } as usize,
        std::process::id()
    );
    s.write_all(request.as_bytes()).ok()?;
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).ok()?;
    Some(s)
}

fn main() {
    let _devserver = connect();
    let mut app = App { count: 0, name: String::new() };
    loop {
        tick(&mut app);
        writeln!(std::io::stdout(), "demo tick {}", app.count).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
EOF

# Neovim's LSP log and state go to the temp dir, not the user's home.
export XDG_STATE_HOME="$tmp/state" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache"
export SUBSECOND_SMOKE_PROJECT="$project" SUBSECOND_SMOKE_CMD="$server_cmd"
echo "smoke: $("$nvim" --version | head -1), server: $server_cmd"

limit=()
command -v timeout >/dev/null 2>&1 && limit=(timeout 300)
set +e
"${limit[@]}" "$nvim" --headless --clean --cmd "set rtp^=$plugin" -c "luafile $here/smoke.lua"
code=$?
set -e
if [ $code -ne 0 ]; then
  echo "smoke: Neovim exited with $code" >&2
  log=$(find "$tmp/state" -name 'lsp.log' 2>/dev/null | head -1)
  [ -n "$log" ] && tail -n 40 "$log" >&2
  exit 1
fi
echo "smoke: passed"
