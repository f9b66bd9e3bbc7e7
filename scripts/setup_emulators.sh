#!/usr/bin/env bash
# Checks (and where it can, installs) the local stand-ins of the Google Cloud services.
# gcp-storage-emulator comes from requirements-dev.txt; bqemulator needs its own
# virtualenv because it pins protobuf below what the Google clients use.
set -euo pipefail
cd "$(dirname "$0")/.."
FIRESTORE=/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator
if [ ! -x "$FIRESTORE" ]; then
  echo "note: the Firestore emulator is missing; emulator tests will fail until it is installed:" >&2
  echo "  apt-get install google-cloud-cli-firestore-emulator openjdk-17-jre-headless" >&2
fi
