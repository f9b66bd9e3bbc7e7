"""Smoke-test a deployed recommend function: health, then one recommendation.

    python scripts/smoke_test.py URL            # ID token from $ID_TOKEN (optional)

Health (``URL?health=1``) must answer. A first deploy has no published model yet: health
answers 503 with ``"status": "unavailable"`` and no model version (the documented
answer, functions/openapi.yaml), which proves the function is reachable and wired; the
script says so and exits 0 without asking for a recommendation. Otherwise one
``?user_id=1&top_n=5`` must return 1..5 ranked items. Exit 1 on any other answer.
Standard library only: the deploy workflow runs it on a bare runner.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

ATTEMPTS = 6  # a cold start after a deploy can take a few seconds
RETRY_SECONDS = 5.0


def get(url: str, token: str | None, timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"raw": body[:500].decode(errors="replace")}


def get_with_retries(url: str, token: str | None, retry_seconds: float) -> tuple[int, dict[str, Any]]:
    """Retry connection errors and 429/5xx other than the documented no-model 503."""
    for attempt in range(ATTEMPTS):
        try:
            status, body = get(url, token)
        except (urllib.error.URLError, TimeoutError) as error:
            status, body = 0, {"error": str(error)}
        if status == 200 or (status == 503 and no_model_yet(body)) or (0 < status < 500 and status != 429):
            return status, body
        if attempt < ATTEMPTS - 1:
            time.sleep(retry_seconds)
    return status, body


def no_model_yet(health: dict[str, Any]) -> bool:
    """The health answer of a deploy before the first `train`: no model has a version."""
    models = health.get("models")
    return (
        health.get("status") == "unavailable"
        and isinstance(models, dict)
        and not any(isinstance(m, dict) and m.get("version") for m in models.values())
    )


def smoke(url: str, token: str | None, retry_seconds: float = RETRY_SECONDS) -> tuple[int, str]:
    """(exit status, message)."""
    status, health = get_with_retries(f"{url}?health=1", token, retry_seconds)
    if status == 503 and no_model_yet(health):
        return 0, (
            "reachable: no model is published yet (health 503 'unavailable'); "
            "run the train job once: gcloud run jobs execute <retrain job> --wait"
        )
    if status != 200:
        return 1, f"health answered {status}: {json.dumps(health)[:500]}"
    status, body = get_with_retries(f"{url}?user_id=1&top_n=5", token, retry_seconds)
    items = body.get("items") if status == 200 else None
    if not isinstance(items, list) or not 1 <= len(items) <= 5:
        return 1, f"recommend answered {status}: {json.dumps(body)[:500]}"
    if [item.get("rank") for item in items] != list(range(1, len(items) + 1)):
        return 1, f"items are not ranked 1..{len(items)}: {items}"
    model = body.get("model", {})
    return 0, f"ok: {len(items)} items from {model.get('name')} {model.get('version')}, variant {body.get('variant')}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    code, message = smoke(argv[0].rstrip("/"), os.environ.get("ID_TOKEN") or None)
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
