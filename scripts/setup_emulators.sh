#!/usr/bin/env bash
# Checks (and where it can, installs) the local stand-ins of the Google Cloud services
# used by the emulator tests (tests/emulators.py, tests/conftest.py):
#   Firestore      the official emulator from the Google Cloud CLI (Java 17+)
#   Cloud Storage  gcp-storage-emulator, from requirements-dev.txt, in .venv
#   BigQuery       bqemulator in its own virtualenv .venv-bq: it pins protobuf below
#                  what the Google clients in .venv need.
#   Firebase Auth  the firebase-tools npm package, pinned, in .tools/firebase-tools (Node 20+)
# Idempotent: run it again at any time. Exits non-zero when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
VENV_BQ="${VENV_BQ:-.venv-bq}"
FIRESTORE=/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator
missing=0

# Firestore: the Google Cloud CLI component and Java 17, from Google's apt repository
# (the same script CI runs on GitHub's runners).
if ! bash scripts/install_firestore_emulator.sh; then
  echo "missing: the Firestore emulator or Java 17+; emulator tests fail until installed:" >&2
  echo "  bash scripts/install_firestore_emulator.sh" >&2
  missing=1
fi

# Firebase Auth: firebase-tools from npm, into the project-local .tools/ (MOVIEREC_AUTH=firebase tests).
if ! bash scripts/install_auth_emulator.sh; then
  echo "missing: the Firebase Auth emulator; auth tests fail until installed: bash scripts/install_auth_emulator.sh" >&2
  missing=1
fi

# Cloud Storage: a console script of the project's virtualenv.
if [ ! -x "$VENV/bin/gcp-storage-emulator" ]; then
  echo "missing: $VENV/bin/gcp-storage-emulator; run: $VENV/bin/pip install -r requirements-dev.txt" >&2
  missing=1
fi

# BigQuery: a separate virtualenv, pinned as docs/ARCHITECTURE.md ("Emulators") says.
if [ ! -x "$VENV_BQ/bin/bqemulator" ]; then
  "$PYTHON" -m venv "$VENV_BQ"
  "$VENV_BQ/bin/python" -m pip install -q --upgrade pip
  "$VENV_BQ/bin/python" -m pip install -q \
    'bqemulator==1.4.*' 'duckdb==1.5.5' 'duckdb-extension-spatial==1.5.5' duckdb-extensions numpy
fi
if ! "$VENV_BQ/bin/python" -c 'from duckdb_extensions import import_extension; import_extension("spatial")'; then
  echo "broken: $VENV_BQ cannot load the DuckDB spatial extension; delete $VENV_BQ and rerun" >&2
  missing=1
fi

if [ "$missing" = 0 ]; then
  echo "emulators ready: firestore ($FIRESTORE), storage ($VENV/bin/gcp-storage-emulator), bigquery ($VENV_BQ/bin/bqemulator), auth (.tools/firebase-tools)"
fi
exit "$missing"
