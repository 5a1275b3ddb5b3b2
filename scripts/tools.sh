#!/usr/bin/env bash
# Installs, once, every tool the build needs, at the versions this project pins.
# Safe to run repeatedly: each step checks first and does nothing when satisfied.
# `scripts/tools.sh rust` stops after the Rust-side tools (the Dockerfile caches those in a
# layer of their own, before the npm packages and sources are copied in).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

say() { echo "tools: $*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (compiles for 15-35 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$"; then
  say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" --force
fi

if [ "${1:-}" = rust ]; then
  exit 0
fi

# npm packages from the committed lock: wasm-opt (binaryen) and Playwright.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
fi

# The story editor's JavaScript (TipTap), from editor/package-lock.json, bundled into
# public/editor/editor.js, served at /editor/editor.js and loaded by the editor island on demand.
if [ ! -f editor/node_modules/.package-lock.json ] || [ editor/package-lock.json -nt editor/node_modules/.package-lock.json ]; then
  say "installing the editor's npm packages from editor/package-lock.json"
  npm ci --prefix editor --no-audit --no-fund
fi
if [ ! -f public/editor/editor.js ] || [ editor/src/editor.js -nt public/editor/editor.js ] || [ editor/package-lock.json -nt public/editor/editor.js ] || [ editor/build.mjs -nt public/editor/editor.js ]; then
  say "bundling the editor into public/editor/editor.js"
  npm run build --prefix editor
fi
