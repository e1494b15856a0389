# Shared helpers for the scripts in script/. Sourced, not run.
# Each step names the time and how long the script has run, so a slow phase
# shows in CI's log.
step() { printf '\n\033[1m==> %s\033[0m  [%s UTC, +%dm%02ds]\n' "$*" "$(date -u +%H:%M:%S)" $((SECONDS / 60)) $((SECONDS % 60)); }

# The wasm-bindgen CLI must match the crate version in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock
}

# binaryen's wasm-opt from npm goes ahead of Debian's (binaryen 108 breaks our WASM).
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
