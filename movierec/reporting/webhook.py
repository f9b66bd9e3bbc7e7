"""Sending an alert: always a log line, and a Slack-compatible webhook when one is set.

Slack, Mattermost, Google Chat and most incident tools accept ``{"text": ...}``; the
structured fields ride along for receivers that read them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests

log = logging.getLogger("movierec.reporting.webhook")


def send_alert(
    webhook_url: str | None, title: str, text: str, fields: Mapping[str, Any] | None = None, timeout: float = 5.0
) -> bool:
    """Log the alert and post it to ``webhook_url``; True when the webhook accepted it."""
    log.warning("ALERT %s: %s", title, text, extra={"alert": title, **(fields or {})})
    if not webhook_url:
        return False
    payload = {"text": f"*{title}*\n{text}", "title": title, "fields": dict(fields or {})}
    try:
        response = requests.post(webhook_url, json=payload, timeout=timeout)
    except requests.RequestException as exc:
        log.error("alert webhook unreachable: %s", exc)
        return False
    if response.status_code >= 300:
        log.error("alert webhook answered %s", response.status_code)
        return False
    return True
