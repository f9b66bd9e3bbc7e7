"""`movierec serve`: both functions on one local server (functions-framework's app on gunicorn)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from movierec.errors import ConfigError
from movierec.serving.server import ServerConfig, run
from movierec.settings import Settings

FUNCTIONS_SOURCE = Path(__file__).resolve().parents[2] / "functions" / "main.py"


def serve(args: argparse.Namespace, settings: Settings) -> int:
    if not FUNCTIONS_SOURCE.is_file():
        raise ConfigError(f"{FUNCTIONS_SOURCE} not found: `movierec serve` runs from a checkout of the repository")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.public:
        raise ConfigError(f"refusing to bind {args.host}; pass --public to listen beyond loopback")
    if args.threads < 1 or args.workers < 1:
        raise ConfigError("--threads and --workers must be at least 1")
    config = ServerConfig.of(settings, args.host, args.port, args.workers, args.threads)
    print(f"serving {settings.backend} backend on http://{args.host}:{args.port} "
          f"(/recommend, /feedback, /healthz) with {args.workers} worker(s) x {args.threads} threads", flush=True)
    # This process becomes gunicorn's master: whoever started it can stop it by PID
    # (SIGTERM drains: in-flight requests finish, new connections are refused).
    # The workers read their own Settings from the same environment (functions/main.py).
    run(config, target="api", source=str(FUNCTIONS_SOURCE))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run recommend + feedback locally (gunicorn, several threads)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="request threads per worker (default 2: more only queue on the GIL, measured in scripts/bench_serving.py)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="worker processes (default: one per core, at most 4; each loads the models; "
        "on 2 cores 2 workers serve 2.2x the requests of one, scripts/bench_serving.py)",
    )
    p.add_argument("--public", action="store_true", help="allow binding a non-loopback address")
    p.set_defaults(func=serve)
