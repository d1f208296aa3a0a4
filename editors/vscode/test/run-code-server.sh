#!/usr/bin/env bash
# Opt-in real VS Code test: packages the extension (.vsix, server included), installs it into
# code-server (VS Code 1.100 in a browser, from npm) and drives it with playwright-core and Debian's
# Chromium on 127.0.0.1 (test/code-server.js). Not part of `npm test`: installing code-server takes
# about 10 minutes here, and the first run needs Debian packages.
#
# usage: editors/vscode/test/run-code-server.sh
# env:
#   SUBSECOND_CODE_SERVER_DIR  where code-server and playwright-core are installed
#                              (default: ~/.cache/subsecond-lsp-ci/code-server; reused)
#   CHROMIUM                   the browser (default: Debian's /usr/bin/chromium)
#   KEEP_WORK=1                keep the scratch dir (screenshots: vscode.png, vscode-quickfix.png)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
extension=$(dirname "$here")
repo=$(cd "$extension/../.." && pwd)
tools=${SUBSECOND_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/subsecond-lsp-ci/code-server}
chromium=${CHROMIUM:-/usr/bin/chromium}
say() { printf 'run-code-server: %s\n' "$*"; }

# Debian packages: the browser, Kerberos headers for code-server's native modules, ripgrep.
need=()
[ -x "$chromium" ] || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
if ((${#need[@]})); then
  say "installing Debian packages: ${need[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

if [ ! -x "$tools/node_modules/.bin/code-server" ] || [ ! -d "$tools/node_modules/playwright-core" ]; then
  say "installing code-server 4.100.3 and playwright-core into $tools (about 10 minutes)"
  mkdir -p "$tools/tmp"
  [ -f "$tools/package.json" ] || echo '{"name":"subsecond-code-server-test","private":true}' >"$tools/package.json"
  # @vscode/ripgrep's postinstall downloads a binary from a host this network cannot reach; it
  # uses a cached archive from $TMPDIR/vscode-ripgrep-cache-<version>/ when there is one, so put
  # Debian's rg there for the versions code-server may pull in.
  seed=$(mktemp -d)
  cp "$(command -v rg)" "$seed/rg"
  tar czf "$seed/rg.tar.gz" -C "$seed" rg
  for minor in 14 15 16 17; do
    for patch in $(seq 0 20); do
      d="$tools/tmp/vscode-ripgrep-cache-1.$minor.$patch"
      mkdir -p "$d"
      for v in v13.0.0-10 v13.0.0-13 v13.0.0-4 v14.1.1-1; do cp "$seed/rg.tar.gz" "$d/ripgrep-$v-x86_64-unknown-linux-musl.tar.gz"; done
    done
  done
  rm -rf "$seed"
  (cd "$tools" && TMPDIR="$tools/tmp" npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-audit --no-fund code-server@4.100.3 playwright-core@1)
fi

say "packaging the extension"
[ -f "$repo/out/server/src/cli.js" ] || (cd "$repo" && npm ci --no-audit --no-fund)
(cd "$extension" && npm ci --no-audit --no-fund >/dev/null && rm -f ./*.vsix && npx vsce package --allow-missing-repository >/dev/null)
vsix=$(ls "$extension"/*.vsix)

work=$(mktemp -d "${TMPDIR:-/tmp}/subsecond-code-server-XXXXXX")
[ "${KEEP_WORK:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
CODE_SERVER="$tools/node_modules/.bin/code-server" PLAYWRIGHT_CORE="$tools/node_modules/playwright-core" \
  CHROMIUM="$chromium" VSIX="$vsix" WORK="$work" node "$here/code-server.js"
