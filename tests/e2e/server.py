"""Start `movierec serve` as a real process on a free loopback port, stop it by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.emulators import free_port


@contextmanager
def running_server(
    env: dict[str, str],
    log_path: Path,
    *,
    threads: int | None = None,
    workers: int | None = None,
    timeout: float = 60.0,
) -> Iterator[str]:
    """``threads=None``, ``workers=None``: movierec serve's defaults."""
    with server_process(env, log_path, threads=threads, workers=workers, timeout=timeout) as (url, _proc):
        yield url


@contextmanager
def server_process(
    env: dict[str, str],
    log_path: Path,
    *,
    threads: int | None = None,
    workers: int | None = None,
    timeout: float = 60.0,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server's URL and process (to signal it by PID); stopped at the end if still running."""
    port = free_port()
    command = [sys.executable, "-m", "movierec.cli", "serve", "--port", str(port)]
    if threads is not None:
        command += ["--threads", str(threads)]
    if workers is not None:
        command += ["--workers", str(workers)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop exactly what we started
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                requests.get(f"{url}/ping", timeout=1)
                break
            # A server still importing under load accepts the connection but answers late:
            # a read timeout means "not ready yet", like a refused connection.
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not answer in {timeout} s:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.05)
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def functions_framework_process(
    target: str,
    source: Path,
    env: dict[str, str],
    log_path: Path,
    *,
    python: str = sys.executable,
    timeout: float = 60.0,
) -> Iterator[str]:
    """One Cloud Run function as Cloud Run starts it (``functions-framework --target``),
    on a free loopback port; its URL. ``env`` replaces the environment (give PATH and
    PYTHONPATH yourself), so nothing of this process leaks into it."""
    port = free_port()
    command = [python, "-m", "functions_framework", "--target", target, "--source", str(source),
               "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"functions-framework exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"functions-framework did not listen in {timeout} s") from None
                time.sleep(0.02)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
