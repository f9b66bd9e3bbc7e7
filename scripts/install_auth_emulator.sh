#!/usr/bin/env bash
# Installs the Firebase Auth emulator: the `firebase-tools` npm package, pinned, into the
# project-local folder .tools/firebase-tools (git-ignored), so nothing global changes.
# The Auth emulator is pure Node (no Java, no download at start); tests/emulators.py
# starts it as `.tools/firebase-tools/node_modules/.bin/firebase emulators:start --only auth`.
#
#   bash scripts/install_auth_emulator.sh     # install when missing or another version
#
# Needs Node 20+ and npm (Debian: apt-get install nodejs npm). Idempotent and fast when
# the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="15.34.2"  # firebase-tools; tests/emulators.py names the same folder
PREFIX=".tools/firebase-tools"
FIREBASE="$PREFIX/node_modules/.bin/firebase"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "missing: node and npm (Node 20+) for the Firebase Auth emulator: apt-get install nodejs npm" >&2
  exit 1
fi
major="$(node --version | sed 's/^v\([0-9]*\).*/\1/')"
if [ "$major" -lt 20 ]; then
  echo "firebase-tools $VERSION needs Node 20+, found $(node --version)" >&2
  exit 1
fi

installed="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$PREFIX/node_modules/firebase-tools/package.json" 2>/dev/null | head -1 || true)"
if [ -x "$FIREBASE" ] && [ "$installed" = "$VERSION" ]; then
  echo "firebase auth emulator ready: $FIREBASE (firebase-tools $VERSION)"
  exit 0
fi

echo "installing firebase-tools@$VERSION into $PREFIX ..." >&2
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "firebase-tools@$VERSION"
"$FIREBASE" --version >/dev/null
echo "firebase auth emulator ready: $FIREBASE (firebase-tools $VERSION)"
