#!/usr/bin/env bash
# `make demo`: the whole loop on the embedded defaults (a folder, SQLite, DuckDB).
# Data -> train A (SVD) and B (EASE) -> A/B experiment -> serve -> real requests ->
# simulated users over HTTP -> export to the warehouse -> A/B report and verdict,
# and the demo page at $URL/ (kept running for the visitor when run from a terminal).
# Knobs (tests/e2e/test_demo_script.py uses them to run the same steps faster):
# MOVIELENS_DIR (a local copy of the data), MOVIEREC_HOME, PORT, DEMO_TRIALS (Optuna
# trials of `train`), DEMO_USERS and DEMO_DAYS (the simulated traffic).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MR="$PY -m movierec.cli"
export MOVIEREC_HOME="${MOVIEREC_HOME:-$PWD/.movierec}"
export MOVIEREC_TOKEN_SECRET="${MOVIEREC_TOKEN_SECRET:-demo-secret-$(hostname)}"
PORT="${PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
URL="http://127.0.0.1:$PORT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. MovieLens 100K (MOVIELENS_DIR=${MOVIELENS_DIR:-<download>})"
$MR data fetch
$MR data validate

step "2. Train A = Surprise SVD and B = EASE on 75% of each movie's ratings (the rest is what simulated users like)"
$MR train --hold-out ${DEMO_TRIALS:+--trials "$DEMO_TRIALS"}

step "3. Start an A/B experiment: A=svd, B=ease, 50/50, with its decision rule and plan"
# Primary: list CTR. Guardrail: the mean rating may not drop by more than 15% (the default
# margin is 1%, but 300 simulated users cannot show one that tight). Secondary: clicks per
# user, shown, never deciding. Plan: SVD's list CTR is about 0.25 in these simulations;
# at this scale only a doubling is detectable (+100% MDE) -> 361 users per variant, which
# also tunes the always-valid test; the guardrail's planned power comes from the mean
# rating of clicked movies (guessed before any data: 4.2, per-user variance 0.5).
# tests/e2e/test_simulation_ab.py reads this line.
$MR experiment stop --running  # a second run: the first run's experiment ends; none yet on a first
EXPERIMENT="demo-$(date +%Y%m%d-%H%M%S)"
$MR experiment create --id "$EXPERIMENT" --variants A=svd,B=ease --weights 50,50 --primary ctr --guardrail rating:0.15 --guardrail-baseline rating=4.2:0.5 --secondary clicks_per_user --baseline 0.25 --mde 1.0 --alpha 0.05 --power 0.8

step "4. Serve both functions on $URL"
$MR serve --port "$PORT" > "$MOVIEREC_HOME/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM  # Ctrl-C: exit, so the EXIT trap stops the server
for _ in $(seq 1 100); do curl -sf "$URL/ping" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/healthz" | $PY -m json.tool
echo "Demo page: $URL/  (recommendations to click, and the live A/B panel)"

step "5. A few real requests"
for user in 1 196 999999; do
  echo "GET /recommend?user_id=$user&top_n=3"
  curl -s "$URL/recommend?user_id=$user&top_n=3" | tee "$MOVIEREC_HOME/last.json" | $PY -c '
import json, sys
r = json.load(sys.stdin)
m, fallback = r["model"], r["fallback"]
print("  variant %s -> %s %s%s" % (r["variant"], m["name"], m["version"], " (fallback: %s)" % fallback if fallback else ""))
for i in r["items"]: print("  %d. %s  score %.3f" % (i["rank"], i["title"], i["score"]))'
done
echo "POST /feedback (a click on the first movie shown to the last user)"
$PY - "$URL" "$MOVIEREC_HOME/last.json" <<'PY'
import json, sys, requests
url, rec = sys.argv[1], json.load(open(sys.argv[2]))
body = {"request_id": rec["request_id"], "token": rec["token"], "user_id": rec["user_id"],
        "movie_id": rec["items"][0]["movie_id"], "type": "click"}
r = requests.post(f"{url}/feedback", json=body, timeout=10)
print(f"  {r.status_code} {r.json()}")
bad = dict(body, token="forged")
r = requests.post(f"{url}/feedback", json=bad, timeout=10)
print(f"  forged token -> {r.status_code} {r.json()['error']['message']}")
PY

DEMO_USERS="${DEMO_USERS:-300}" DEMO_DAYS="${DEMO_DAYS:-7}"
step "6. Simulated A/B traffic: $DEMO_USERS users x $DEMO_DAYS days, clicks by held-out ratings (their training ratings go to the warehouse as rating history, the CUPED covariate)"
$MR simulate --url "$URL" --users "$DEMO_USERS" --days "$DEMO_DAYS"

step "7. Export events to the warehouse (DuckDB) and report"
$MR export
$MR report --experiment "$EXPERIMENT" --html "$MOVIEREC_HOME/report.html" | tee "$MOVIEREC_HOME/report.txt"
echo "HTML report: $MOVIEREC_HOME/report.html"
echo
awk '/^verdict: /{on=1} /^HTML report/{on=0} on' "$MOVIEREC_HOME/report.txt"  # the verdict and its reasons, once more

step "8. The demo page: $URL/"
echo "Pick a user, click or rate movies (real feedback), watch the A/B panel count it."
if [ -t 0 ]; then
  echo "The server keeps running for you at $URL/ -- press Ctrl-C to stop it."
  wait "$SERVER" || true
else
  echo "(no terminal: stopping the server; run \`make demo\` in a terminal to keep it up)"
fi
