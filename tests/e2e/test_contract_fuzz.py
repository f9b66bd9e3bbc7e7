"""schemathesis against a real `movierec serve`: functions/openapi.yaml is exactly what the
server accepts and answers.

Every check schemathesis has (server errors, status codes, content types, headers, response
schemas, schema-valid data accepted, schema-invalid data refused, unsupported methods, …),
positive and negative data, and the stateful phase, which follows the document's link
from a recommendation to a click on it (with its token), so feedback is exercised past
the token check: 0 failures. Bounded by examples per operation (about 30 s here).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.e2e.server import running_server
from tests.fixtures.serving import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAX_EXAMPLES = 60


def schemathesis(url: str, cwd) -> subprocess.CompletedProcess[str]:
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        pytest.fail("schemathesis is missing: .venv/bin/pip install -r requirements-dev.txt")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(REPO / "functions" / "openapi.yaml"),
        "--url", url, "--checks", "all", "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES), "--seed", "42", "--generation-database", "none",
        "--workers", "1", "--request-timeout", "10", "--no-color",
    ]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)


def test_schemathesis_finds_no_failure_in_any_phase(local_env, tmp_path):
    log_path = tmp_path / "server.log"
    with running_server(local_env, log_path) as url:
        result = schemathesis(url, tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-8000:]
    assert re.search(r"Operations:\s+13 selected / 13 total", report), report[-3000:]
    # The document's 2 links, and those schemathesis infers from the catalogue's paths
    # (a recommended movie_id -> /api/movies/{movie_id}, ...); the server log below shows the
    # recommend -> feedback link was followed past the token.
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected / \2 total", report)
    assert links and int(links[1]) >= 2, report[-3000:]
    # The stateful phase really got past the token: clicks were stored, and retried ones were duplicates.
    served = log_path.read_text()
    assert re.search(r"POST /feedback 201 ", served) and re.search(r"POST /feedback 200 ", served)
    assert not re.search(r'"status": 5\d\d', served), "the server answered a 5xx"
