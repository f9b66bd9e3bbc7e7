"""Installed size and cold start of the functions' lean deployment.

    python -m pip install --target /tmp/serving-target -r requirements-serving.txt
    python scripts/bench_cold_start.py --deps /tmp/serving-target [--deps /tmp/full-target] [--runs 7]

For each dependency folder (a ``pip install --target`` of a requirements file, as the
Python buildpack installs them), the script builds the functions' source zip
(scripts/build_function_source.py), extracts it, and starts the recommend function as
Cloud Run does, ``python -m functions_framework --target recommend``, with the
interpreter isolated from every other site-packages (``python -S``, ``PYTHONPATH`` =
deps folder + extracted source). Cold start = from spawning the process to the first
answer of ``?health=1`` (the first request builds the app: settings, stores, model
cache); with an empty MOVIEREC_HOME it answers 503 (no model), which is the same work
minus reading an artifact. Reported: installed size of the folder (MB, ``du``), and
the median, min and max cold start over ``--runs`` runs, one at a time.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_function_source


def folder_megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # 503 without a model is an answer
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def cold_start(python: str, deps: Path, source: Path, home: Path, timeout: float = 120.0) -> float:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{deps}:{source}", "MOVIEREC_HOME": str(home),
           "HOME": str(home)}
    command = [python, "-S", "-m", "functions_framework", "--target", "recommend",
               "--source", str(source / "functions" / "main.py"), "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        while not answered(f"http://127.0.0.1:{port}/?health=1"):
            if proc.poll() is not None:
                raise SystemExit(f"the function exited with {proc.returncode}: {proc.stderr.read()[-2000:]!r}")
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"no answer within {timeout} s")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deps", type=Path, action="append", required=True, help="a pip --target folder")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=getattr(sys, "_base_executable", sys.executable),
                        help="interpreter (the base one: no virtualenv site-packages)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        build_function_source.build(work / "source.zip")
        with zipfile.ZipFile(work / "source.zip") as archive:
            archive.extractall(work / "source")
        print("| deps folder | installed MB | cold start median s | min | max | runs |")
        print("|---|---|---|---|---|---|")
        for deps in args.deps:
            cold_start(args.python, deps, work / "source", work / "home")  # warm the OS page cache once
            times = [cold_start(args.python, deps, work / "source", work / f"home-{i}") for i in range(args.runs)]
            print(f"| {deps} | {folder_megabytes(deps):.0f} | {statistics.median(times):.2f} | "
                  f"{min(times):.2f} | {max(times):.2f} | {args.runs} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
