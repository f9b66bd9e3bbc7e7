"""Structured logs: one valid JSON object per line, Cloud Logging's fields, no secrets."""

from __future__ import annotations

import io
import json
import logging

from movierec.observability.logging import REDACTED, configure_logging, parse_trace_header
from tests.fixtures.serving import SECRET

WEBHOOK = "http://127.0.0.1:9/services/T0001/B0002/very-secret-hook-path"
TRACE_ID = "105445aa7843bc8bf206b12000100000"


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # raises on any line that is not JSON


def test_request_logs_carry_the_fields_and_never_the_token_or_secret(make_client, local_env, capsys):
    client = make_client({**local_env, "MOVIEREC_ALERT_WEBHOOK_URL": WEBHOOK, "GOOGLE_CLOUD_PROJECT": "demo-proj"})
    rec = client.get("/recommend?user_id=1&top_n=5", headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/42;o=1"}).get_json()
    body = {"request_id": rec["request_id"], "token": rec["token"], "user_id": 1,
            "movie_id": rec["items"][0]["movie_id"], "type": "click"}
    assert client.post("/feedback", json=body).status_code == 201
    assert client.post("/feedback", json={**body, "token": "9999999999." + "0" * 64}).status_code == 403
    logging.getLogger("movierec.test").warning("leak attempt token=%s url=%s secret %s", rec["token"], WEBHOOK, SECRET)

    err = capsys.readouterr().err
    entries = json_lines(err)
    requests_ = [e for e in entries if e.get("logger") == "movierec.requests"]
    assert [e["function"] for e in requests_] == ["recommend", "feedback", "feedback"]
    assert [e["status"] for e in requests_] == [200, 201, 403]
    first = requests_[0]
    assert first["severity"] == "INFO" and first["time"].endswith("Z")
    assert first["request_id"] == rec["request_id"] and first["variant"] == "default"
    assert first["model_version"] == rec["model"]["version"] and first["latency_ms"] > 0
    assert first["logging.googleapis.com/trace"] == f"projects/demo-proj/traces/{TRACE_ID}"
    assert first["logging.googleapis.com/spanId"] == "42" and first["logging.googleapis.com/trace_sampled"] is True
    assert "logging.googleapis.com/trace" not in requests_[1]  # no header, no trace
    assert requests_[1]["request_id"] == rec["request_id"] and requests_[1]["variant"] == "default"
    leak = next(e for e in entries if e.get("logger") == "movierec.test")
    assert leak["severity"] == "WARNING" and leak["message"].count(REDACTED) == 3
    for secret in (rec["token"], SECRET, WEBHOOK, "very-secret-hook-path"):
        assert secret not in err


def test_exceptions_and_extras_are_redacted():
    stream = io.StringIO()
    configure_logging("DEBUG", secrets=("s3cr3t-value", WEBHOOK), stream=stream)
    log = logging.getLogger("movierec.test")
    try:
        raise RuntimeError(f"could not reach {WEBHOOK} with s3cr3t-value")
    except RuntimeError:
        log.exception("alert failed", extra={"webhook_url": WEBHOOK, "authorization": "Bearer abc", "note": "s3cr3t-value"})
    log.debug("plain %d", 7)
    entries = json_lines(stream.getvalue())
    assert len(entries) == 2
    error, debug = entries
    assert error["severity"] == "ERROR" and "Traceback" in error["message"] and "RuntimeError" in error["message"]
    assert error["webhook_url"] == REDACTED and error["authorization"] == REDACTED and error["note"] == REDACTED
    assert "s3cr3t-value" not in stream.getvalue() and "very-secret-hook-path" not in stream.getvalue()
    assert debug == {**debug, "severity": "DEBUG", "message": "plain 7"}


def test_configure_logging_twice_keeps_one_handler_and_rejects_bad_levels():
    import pytest

    from movierec.errors import ConfigError

    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=first)
    configure_logging("INFO", stream=second)
    logging.getLogger("movierec.test").info("once")
    assert first.getvalue() == "" and len(json_lines(second.getvalue())) == 1
    with pytest.raises(ConfigError, match="log level"):
        configure_logging("LOUD")


def test_trace_header_parsing():
    assert parse_trace_header(f"{TRACE_ID}/1;o=0", "p") == (f"projects/p/traces/{TRACE_ID}", "1", False)
    assert parse_trace_header(TRACE_ID, None) == (TRACE_ID, None, None)
    assert parse_trace_header("garbage\n{}", "p") == (None, None, None)
    assert parse_trace_header(None, "p") == (None, None, None)


def test_the_formatter_redacts_alone_and_never_trusts_another_redactors_mark():
    from movierec.observability.logging import (
        CloudLoggingFormatter,
        RedactionFilter,
        Redactor,
        RequestContext,
        annotate,
        request_context,
    )

    formatter = CloudLoggingFormatter(Redactor(["s3cr3t-value"]))
    token = "a" * 64

    def record(**extra) -> logging.LogRecord:
        return logging.makeLogRecord({"name": "movierec.test", "levelname": "INFO", "levelno": logging.INFO,
                                      "msg": "sent %s", "args": ("s3cr3t-value",), **extra})

    marked = record(note="s3cr3t-value")
    RedactionFilter(Redactor()).filter(marked)  # a redactor that knows no secret marked it
    spoofed = record(note="s3cr3t-value", _movierec_redacted=True)  # a caller's extra= says "done"
    with request_context(RequestContext(function="recommend")):
        annotate(token=token, reason=f"token={token}", user="s3cr3t-value")
        lines = [formatter.format(r) for r in (record(note="s3cr3t-value"), marked, spoofed)]
    for line in lines:
        entry = json.loads(line)
        assert entry["message"] == f"sent {REDACTED}" and entry["note"] == REDACTED
        assert entry["token"] == REDACTED and entry["user"] == REDACTED and token not in entry["reason"]
        assert "s3cr3t-value" not in line and "_movierec_redacted" not in entry


def test_remembered_clean_strings_never_include_a_secret():
    from movierec.observability.logging import Redactor

    redactor = Redactor(["s3cr3t-value"])
    for _ in range(2):  # the second pass answers from what the first remembered
        assert redactor.text("GET /recommend") == "GET /recommend"
        assert redactor.text("key s3cr3t-value") == f"key {REDACTED}"
        assert redactor.text("token=" + "b" * 64) == f"token={REDACTED}"
    assert redactor._clean == {"GET /recommend"}
