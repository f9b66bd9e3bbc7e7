"""`movierec serve`: both functions on one local server (functions-framework on gunicorn)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from movierec.errors import ConfigError
from movierec.settings import Settings, child_environment

FUNCTIONS_SOURCE = Path(__file__).resolve().parents[2] / "functions" / "main.py"


def serve(args: argparse.Namespace, settings: Settings) -> int:
    if not FUNCTIONS_SOURCE.is_file():
        raise ConfigError(f"{FUNCTIONS_SOURCE} not found: `movierec serve` runs from a checkout of the repository")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.public:
        raise ConfigError(f"refusing to bind {args.host}; pass --public to listen beyond loopback")
    # The server reads its own Settings from this environment (functions/main.py).
    env = child_environment({"THREADS": str(args.threads), "WORKERS": str(args.workers)})
    print(f"serving {settings.backend} backend on http://{args.host}:{args.port} "
          f"(/recommend, /feedback, /healthz) with {args.workers} worker(s) x {args.threads} threads", flush=True)
    # exec: the server keeps this process id, so whoever started it can stop it by PID.
    os.execve(
        sys.executable,
        [sys.executable, "-m", "functions_framework", "--target", "api", "--source", str(FUNCTIONS_SOURCE),
         "--host", args.host, "--port", str(args.port)],
        env,
    )
    return 0  # not reached


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run recommend + feedback locally (gunicorn, several threads)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--threads",
        type=int,
        default=max(2, os.cpu_count() or 1),
        help="request threads (default: one per core; more only queue on the GIL, measured in scripts/bench_serving.py)",
    )
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--public", action="store_true", help="allow binding a non-loopback address")
    p.set_defaults(func=serve)
