#!/usr/bin/env bash
# The headless browser of the page test (tests/web/test_page_browser.py): Debian's
# chromium, driven by Playwright. Playwright's own browser download is not used (it
# fetches a build from outside the package registries); the test launches
# /usr/bin/chromium instead. Idempotent: does nothing when chromium is already there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install chromium as root: apt-get install -y chromium" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
