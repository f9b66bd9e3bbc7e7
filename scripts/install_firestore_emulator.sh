#!/usr/bin/env bash
# Installs the Cloud Firestore emulator (Google Cloud CLI component) and Java 17, the
# same way on GitHub's ubuntu runners (ci.yml runs this script) and on a Debian/Ubuntu
# workstation: Google's apt repository is added explicitly with its signing key, as
# https://cloud.google.com/sdk/docs/install#deb describes, instead of assuming the
# machine already has that source (GitHub's runner image deletes the Google Cloud CLI
# apt source and keyring after installing the CLI).
#
#   bash scripts/install_firestore_emulator.sh           # install what is missing
#   DRY_RUN=1 bash scripts/install_firestore_emulator.sh # print the commands only
#
# Idempotent: with the emulator and Java 17+ present it changes nothing.
set -euo pipefail

FIRESTORE="${FIRESTORE:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator}"
KEY_URL=https://packages.cloud.google.com/apt/doc/apt-key.gpg
KEYRING=/usr/share/keyrings/cloud.google.gpg
SOURCE_LIST=/etc/apt/sources.list.d/google-cloud-sdk.list
REPO_LINE="deb [signed-by=$KEYRING] https://packages.cloud.google.com/apt cloud-sdk main"
PACKAGES=(google-cloud-cli-firestore-emulator openjdk-17-jre-headless)

java_17() {
  command -v java >/dev/null || return 1
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [ -n "$major" ] && [ "$major" -ge 17 ]
}

if [ -x "$FIRESTORE" ] && java_17; then
  echo "firestore emulator ready: $FIRESTORE ($(java -version 2>&1 | head -1))"
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
run() {
  if [ "${DRY_RUN:-0}" = 1 ]; then echo "+ $*"; else "$@"; fi
}

run "${SUDO[@]}" mkdir -p "$(dirname "$KEYRING")"
if [ "${DRY_RUN:-0}" = 1 ]; then
  echo "+ curl -fsSL $KEY_URL | ${SUDO[*]} gpg --dearmor --yes -o $KEYRING"
  echo "+ echo '$REPO_LINE' | ${SUDO[*]} tee $SOURCE_LIST"
else
  curl -fsSL "$KEY_URL" | "${SUDO[@]}" gpg --dearmor --yes -o "$KEYRING"
  echo "$REPO_LINE" | "${SUDO[@]}" tee "$SOURCE_LIST" >/dev/null
fi
run "${SUDO[@]}" apt-get update -qq
run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"

if [ "${DRY_RUN:-0}" != 1 ] && { [ ! -x "$FIRESTORE" ] || ! java_17; }; then
  echo "the Firestore emulator is still missing at $FIRESTORE (or Java is older than 17)" >&2
  exit 1
fi
