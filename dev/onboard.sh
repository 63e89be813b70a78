#!/usr/bin/env bash
# From a fresh clone to a working setup in one command; safe to run again.
# Checks the Rust toolchain, builds the tool, installs the pre-commit hook, creates your local
# database at head in local/ (ignored by git), runs check, and prints what to do next.
# DEV_BIN names an already built tool binary to use instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

need=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
if ! command -v rustc >/dev/null 2>&1; then
  echo "onboard: no Rust toolchain found; install one from https://rustup.rs (version $need or newer)" >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if ! printf '%s\n%s\n' "$need" "$have" | sort -V -C; then
  echo "onboard: rustc $have is older than the workspace's rust-version $need; run: rustup update" >&2
  exit 1
fi
echo "onboard: rustc $have (the workspace needs $need or newer)"

# The tool runs through `cargo run`, which finds it wherever CARGO_TARGET_DIR or
# build.target-dir puts it.
dev() {
  if [ -n "${DEV_BIN:-}" ]; then
    "$DEV_BIN" "$@"
  else
    cargo run --quiet -p dev -- "$@"
  fi
}
if [ -z "${DEV_BIN:-}" ]; then
  echo "onboard: building the dev tool"
  if ! cargo build --quiet -p dev; then
    echo "onboard: the dev tool does not build (see above); fix that and run dev/onboard.sh again" >&2
    exit 1
  fi
fi

dev install-hooks
mkdir -p local
dev upgrade --database local/app.sqlite3
dev check

cat <<'NEXT'

onboard: ready. Next steps:
  - edit schema/schema.rs, then:   cargo run -p dev -- generate "what you changed"
  - apply it to your database:     cargo run -p dev -- upgrade --database local/app.sqlite3
  - before pushing:                cargo test
  The pre-commit hook runs `check` whenever schema/ or versions/ is staged.
NEXT
