#!/usr/bin/env bash
# Opt-in real-Helix test: hx in a tmux pane, with the README's settings and subsecond-lsp as the
# Rust server, on a throwaway cargo project. Types as a user does and reads the screen:
# :lsp-workspace-command subsecond.startApp, add a struct field and :w, the warning's text at the
# end of the struct's line, `space a` on the added field offering "Restart app to apply", Enter
# restarting the app, a patch built from the unsaved buffer while typing paused and sent on save,
# and quitting Helix stopping it.
#
# usage: HX_BIN=/path/to/hx editors/helix/test/tmux.sh
#   (Helix 25.07.1 builds from its sources with RUSTUP_TOOLCHAIN=stable
#    HELIX_DISABLE_AUTO_GRAMMAR_BUILD=1 cargo build --release -p helix-term, about 18 minutes here)
# env: HX_BIN (required; without it the test is skipped), SUBSECOND_HX_TIMEOUT (seconds per step, 60)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
say() { printf 'helix test: %s\n' "$*"; }
[ -n "${HX_BIN:-}" ] || { say "skipped: HX_BIN is not set"; exit 0; }
command -v tmux >/dev/null || { say "FAIL: tmux is not installed"; exit 1; }
[ -f "$repo/out/server/src/cli.js" ] || { say "FAIL: the server is not built (npm ci at the repo root)"; exit 1; }
limit=${SUBSECOND_HX_TIMEOUT:-60}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/subsecond-helix-XXXXXX")
session="subsecond-helix-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT

project="$tmp/demo"
mkdir -p "$project/src" "$tmp/config/helix"
cat >"$project/Cargo.toml" <<'TOML'
[package]
name = "demo"
version = "0.1.0"
edition = "2021"

[dependencies]
TOML
# The Neovim smoke test's app: a plain dx-compatible devserver client that prints ticks.
sed -n '/^cat >"\$project\/src\/main.rs" <<.EOF.$/,/^EOF$/p' "$repo/editors/neovim/test/smoke.sh" | sed '1d;$d' >"$project/src/main.rs"
grep -q 'pub struct App' "$project/src/main.rs" || { say "FAIL: could not take the fixture from smoke.sh"; exit 1; }

# The README's settings (step 4) and the server, alone on Rust here (no rust-analyzer needed).
cat >"$tmp/config/helix/config.toml" <<'TOML'
[editor]
end-of-line-diagnostics = "warning"

[editor.inline-diagnostics]
cursor-line = "warning"

[editor.lsp]
display-progress-messages = true
TOML
cat >"$tmp/config/helix/languages.toml" <<TOML
[language-server.subsecond-lsp]
command = "node"
args = ["$repo/server/bin/subsecond-lsp.js", "--stdio"]

[language-server.subsecond-lsp.config.subsecond]
autoPatch = true # the default, spelled out: a save patches, and its outcome must show on screen

[[language]]
name = "rust"
language-servers = ["subsecond-lsp"]
TOML

screen() { tmux capture-pane -p -t "$session"; }
wait_for() { # what, grep -E pattern
  local end=$((SECONDS + limit))
  while ((SECONDS < end)); do
    if screen | grep -Eq -- "$2"; then return 0; fi
    sleep 0.3
  done
  say "FAIL: timed out waiting for $1; the screen:"; screen; exit 1
}
# One key (or literal string) per send-keys, with a pause: an Escape followed at once by a key
# reads as Alt+key in a terminal.
keys() { for k in "$@"; do tmux send-keys -t "$session" "$k"; sleep 0.25; done; }

tmux new-session -d -s "$session" -x 160 -y 45 -c "$project" \
  "env XDG_CONFIG_HOME='$tmp/config' XDG_CACHE_HOME='$tmp/cache' XDG_DATA_HOME='$tmp/data' PATH='$PATH' '$HX_BIN' src/main.rs 2>'$tmp/hx.stderr'"
wait_for 'hx to show the file' 'pub struct App'
sleep 2 # the server starting

keys ':lsp-workspace-command subsecond.startApp' Enter
wait_for 'the start message' 'started demo \(pid [0-9]+\)'
pid=$(screen | grep -Eo 'started demo \(pid [0-9]+\)' | grep -Eo '[0-9]+' | head -1)
say "started from :lsp-workspace-command: pid $pid"

# Add a field below `pub name: String,` (line 6) and initialize it, then save.
keys Escape '6gg' 'o' 'pub extra: bool,' Escape
keys '/new\(\)' Enter '\;' 'a' ', extra: false' Escape
keys ':w' Enter
wait_for 'the warning at the end of the struct line' 'pub struct App \{.*requires restart'
say "end-of-line diagnostic: $(screen | grep -Eo 'pub struct App \{.*requires restart[^│]*' | head -1 | sed 's/  */ /g')"

# `space a` on the added field, not on the warning's line.
keys '7gg' Space 'a'
wait_for 'the code action menu' 'Restart app to apply'
say "space a on line 7 offers: Restart app to apply"
keys Enter
wait_for 'the restarted app' "started demo \\(pid [0-9]+\\)"
new_pid=$(screen | grep -Eo 'started demo \(pid [0-9]+\)' | grep -Eo '[0-9]+' | tail -1)
[ "$new_pid" != "$pid" ] || { sleep 3; new_pid=$(screen | grep -Eo 'started demo \(pid [0-9]+\)' | grep -Eo '[0-9]+' | tail -1); }
[ "$new_pid" != "$pid" ] || { say "FAIL: still pid $pid after the quick fix"; screen; exit 1; }
say "the quick fix restarted the app: pid $new_pid"

# Built before the save: change `app.count += 1;` without saving, wait for the patch built from
# the buffer (Helix sends every change), then save and patch: only that patch is sent.
keys Escape '/count \+= 1' Enter '\;' 'r2' Escape # the search selects the match; `;` keeps its last char
spec_dir="$project/target/subsecond-lsp/demo/speculative"
end=$((SECONDS + limit))
until compgen -G "$spec_dir/libdemo-speculative-*.so" >/dev/null || ((SECONDS >= end)); do sleep 0.3; done
compgen -G "$spec_dir/libdemo-speculative-*.so" >/dev/null || { say "FAIL: no patch was built from the unsaved buffer"; screen; exit 1; }
# Only :w: the patch outcome comes as window/showMessage (Helix ignores subsecond/status), so it
# is on screen without running any command.
keys ':w' Enter
wait_for 'the prepared patch to be sent' 'prepared before the save'
say "after a pause in typing, :w alone shows: $(screen | grep -Eo '⚡ patched main.rs in [0-9]+ ms \(prepared before the save' | head -1)"

keys ':q!' Enter
end=$((SECONDS + limit))
while kill -0 "$new_pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.3; done
if kill -0 "$new_pid" 2>/dev/null; then say "FAIL: app pid $new_pid still runs after quitting Helix"; exit 1; fi
say "quitting Helix stopped the app"
say "passed"
