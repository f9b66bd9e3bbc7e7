"""Start and stop the local stand-ins of Google Cloud services on free loopback ports.

Used by ``tests/conftest.py`` (session fixtures) and by scripts (the demo, benchmarks)::

    with firestore_emulator() as fs, storage_emulator() as gcs:
        env = {**fs.env(), **gcs.env()}   # FIRESTORE_EMULATOR_HOST, STORAGE_EMULATOR_HOST

Each emulator runs in a process group of its own (``start_new_session=True``):
``stop()`` signals that group and nothing else, which also reaches the java child
the Firestore launcher script starts. No pytest import here.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"
FIRESTORE_LAUNCHER = Path(
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"
)
FIRESTORE_INSTALL = (
    "install the Firestore emulator and Java 17+: "
    "`apt-get install google-cloud-cli-firestore-emulator openjdk-17-jre-headless` "
    "(from Google Cloud's apt repository), or run `bash scripts/setup_emulators.sh`"
)
STORAGE_INSTALL = (
    "install the Cloud Storage emulator into the project's virtualenv: "
    "`.venv/bin/pip install -r requirements-dev.txt` (it holds gcp-storage-emulator)"
)


class EmulatorNotInstalled(RuntimeError):
    """The emulator's program is missing; the message says how to install it."""


class EmulatorError(RuntimeError):
    """The emulator did not start or stop; the message holds the end of its log."""


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (the OS picks it; a tiny race remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def _http(method: str, url: str, body: bytes | None = None, timeout: float = 5.0) -> bytes:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return bytes(response.read())


class Emulator:
    """One emulator process group on ``HOST:port``, restartable on the same port."""

    ready_path = "/"  # start() returns once a GET of this path answers 2xx/3xx

    def __init__(
        self,
        name: str,
        command: Callable[[int], list[str]],
        port: int | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.host = HOST
        self.port = port or free_port()
        self._command = command
        self._log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"{name}-"))
        self.log_path = self._log_dir / f"{name}-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)  # a crashed test session must not leave it running

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def env(self) -> dict[str, str]:
        """The environment variables that point Google's clients at this emulator."""
        return {}

    def start(self, timeout: float = 60.0) -> None:
        """Start on ``self.port`` and return once it answers HTTP; no-op when running."""
        if self.running:
            return
        if _port_open(self.host, self.port):
            raise EmulatorError(f"{self.name}: port {self.port} is already taken by another process")
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self._command(self.port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._popen_options(),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorError(
                    f"{self.name} exited with code {self._process.returncode} at start:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                _http("GET", self.url + self.ready_path, timeout=1.0)
                return
            time.sleep(0.1)
        self.stop()
        raise EmulatorError(f"{self.name} did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def _popen_options(self) -> dict[str, Any]:
        """Extra ``subprocess.Popen`` arguments (a working folder, an environment)."""
        return {}

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process group and wait until the port is free again."""
        process, self._process = self._process, None
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)  # the group we created, pgid == pid
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
            deadline = time.monotonic() + timeout
            while _port_open(self.host, self.port) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _port_open(self.host, self.port):
                return
        raise EmulatorError(f"{self.name} still listens on {self.port} after SIGKILL")

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the process group (SIGSTOP): the port stays open but nothing answers,
        like a backend that hangs; unlike stop(), its data survives until resume()."""
        if self._process is None:
            raise EmulatorError(f"{self.name} is not running")
        os.killpg(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGCONT)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class FirestoreEmulator(Emulator):
    """The official Cloud Firestore emulator (Java), gRPC and REST on one port."""

    def env(self) -> dict[str, str]:
        return {"FIRESTORE_EMULATOR_HOST": self.host_port}

    def reset(self, project: str, database: str = "(default)") -> None:
        """Delete every document of ``project`` (the emulator's own endpoint, see docs/ARCHITECTURE.md)."""
        # Generous: the JVM's first delete of a session took over 5 s on a loaded 2-core machine.
        _http(
            "DELETE",
            f"{self.url}/emulator/v1/projects/{project}/databases/{database}/documents",
            timeout=60.0,
        )

    def start_serving(self, project: str = "warm-up", timeout: float = 60.0) -> None:
        """Start, then return once a write succeeds: the backend is back.

        A freshly started emulator (a cold JVM) answers HTTP at once but takes seconds
        (2.7-4.6 s measured here) to complete its first write; real Firestore has no such
        phase, so an outage's end is when a new client can write, not when the port opens.
        """
        self.start(timeout)
        client, deadline = self.client(project), time.monotonic() + timeout
        while True:
            try:
                client.collection("warm-up").document("probe").set({"ok": True}, timeout=5.0, retry=None)
                return
            except Exception:  # any failure means "not serving yet"
                if time.monotonic() > deadline:
                    raise EmulatorError(f"{self.name}: no write succeeded within {timeout} s of starting") from None
                time.sleep(0.05)

    def client(self, project: str, database: str = "(default)"):  # -> firestore.Client
        """A Firestore client bound to this emulator.

        The library reads FIRESTORE_EMULATOR_HOST from the process environment when the
        client is built (and only then), so it is set for the duration of the call.
        """
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import firestore

        with patched_environ(self.env()):
            return firestore.Client(
                project=project, database=database, credentials=AnonymousCredentials()
            )


class StorageEmulator(Emulator):
    """``gcp-storage-emulator`` (pure Python) holding its data in memory."""

    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.url}

    def reset(self) -> None:
        """Delete every bucket and object."""
        _http("GET", f"{self.url}/wipe")

    def create_bucket(self, name: str, project: str = "test-project") -> None:
        """Create ``name``; an existing bucket is fine."""
        body = json.dumps({"name": name}).encode()
        try:
            _http("POST", f"{self.url}/storage/v1/b?project={project}", body)
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise

    def client(self, project: str):  # -> storage.Client
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )


class BigQueryEmulator(Emulator):
    """``bqemulator`` (DuckDB-backed), in its own virtualenv: REST on ``port`` (what the
    Python client uses) and gRPC (the Storage Read/Write APIs) on ``grpc_port``.
    In-memory: a restart empties it."""

    ready_path = "/bigquery/v2/projects/emulator/datasets"  # "/" answers 404

    def __init__(self, name: str, command: Callable[[int], list[str]], port: int | None,
                 grpc_port: int, log_dir: Path | None) -> None:
        super().__init__(name, command, port, log_dir)
        self.grpc_port = grpc_port

    def env(self) -> dict[str, str]:
        return {"BIGQUERY_EMULATOR_HOST": self.url}

    def client(self, project: str):  # -> bigquery.Client
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.url),
        )


class AuthEmulator(Emulator):
    """The Firebase Auth emulator of ``firebase-tools`` (Node): Identity Toolkit REST on ``port``.

    Accounts and ID tokens are made through its REST API, as a client app would: real
    (unsigned, as the emulator's always are) Firebase ID tokens for ``project``.
    """

    ready_path = "/"  # {"authEmulator": {"ready": true, ...}}

    def __init__(self, name: str, command: Callable[[int], list[str]], port: int | None,
                 log_dir: Path | None, project: str) -> None:
        super().__init__(name, command, port, log_dir)
        self.project = project

    def _popen_options(self) -> dict[str, Any]:
        # firebase-tools writes firebase-debug.log into its working folder and a hub
        # locator into TMPDIR: both go to this emulator's own folder.
        return {"cwd": self._log_dir, "env": {**os.environ, "TMPDIR": str(self._log_dir)}}

    def env(self) -> dict[str, str]:
        return {"FIREBASE_AUTH_EMULATOR_HOST": self.host_port}

    def reset(self) -> None:
        """Delete every account of the project (the emulator's own endpoint)."""
        _http("DELETE", f"{self.url}/emulator/v1/projects/{self.project}/accounts")

    def _toolkit(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.url}/identitytoolkit.googleapis.com/v1/accounts:{method}?key=emulator"
        return dict(json.loads(_http("POST", url, json.dumps(body).encode())))

    def sign_up(self, email: str, password: str = "movierec-test") -> dict[str, Any]:
        """A new email/password account: ``{"localId": uid, "idToken": ..., "refreshToken": ...}``."""
        return self._toolkit("signUp", {"email": email, "password": password, "returnSecureToken": True})

    def sign_in(self, email: str, password: str = "movierec-test") -> dict[str, Any]:
        """A fresh ID token for an existing account."""
        return self._toolkit("signInWithPassword", {"email": email, "password": password, "returnSecureToken": True})


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in os.environ for the duration of the block (tests and scripts only)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def firestore_emulator(
    port: int | None = None, log_dir: Path | None = None, launcher: Path = FIRESTORE_LAUNCHER
) -> FirestoreEmulator:
    """A FirestoreEmulator (not started yet); EmulatorNotInstalled if it cannot run here."""
    if not launcher.is_file():
        raise EmulatorNotInstalled(f"{launcher} not found: {FIRESTORE_INSTALL}")
    if shutil.which("java") is None:
        raise EmulatorNotInstalled(f"java not found on PATH: {FIRESTORE_INSTALL}")

    def command(p: int) -> list[str]:
        return [str(launcher), "start", f"--host={HOST}", f"--port={p}"]

    return FirestoreEmulator("firestore-emulator", command, port, log_dir)


def storage_emulator(port: int | None = None, log_dir: Path | None = None) -> StorageEmulator:
    """A StorageEmulator (not started yet); EmulatorNotInstalled if it cannot run here."""
    beside_python = Path(sys.executable).parent / "gcp-storage-emulator"
    program = str(beside_python) if beside_python.is_file() else shutil.which("gcp-storage-emulator")
    if program is None:
        raise EmulatorNotInstalled(f"gcp-storage-emulator not found: {STORAGE_INSTALL}")

    def command(p: int) -> list[str]:
        return [program, "start", "--host", HOST, "--port", str(p), "--in-memory"]

    return StorageEmulator("storage-emulator", command, port, log_dir)


FIREBASE_TOOLS = Path(__file__).resolve().parents[1] / ".tools" / "firebase-tools" / "node_modules" / ".bin" / "firebase"
AUTH_INSTALL = (
    "the Firebase Auth emulator is the firebase-tools npm package (Node 20+), installed "
    "into .tools/firebase-tools by `bash scripts/install_auth_emulator.sh` (part of `make setup`)"
)
AUTH_TEST_PROJECT = "demo-movierec-test"  # "demo-": firebase-tools needs no login and calls no real service


def auth_emulator(
    port: int | None = None,
    log_dir: Path | None = None,
    project: str = AUTH_TEST_PROJECT,
    program: Path = FIREBASE_TOOLS,
) -> AuthEmulator:
    """An AuthEmulator (not started yet); EmulatorNotInstalled if firebase-tools or Node is missing."""
    if not program.is_file():
        raise EmulatorNotInstalled(f"{program} not found: {AUTH_INSTALL}")
    if shutil.which("node") is None:
        raise EmulatorNotInstalled(f"node not found on PATH: {AUTH_INSTALL}")
    folder = Path(log_dir or tempfile.mkdtemp(prefix="auth-emulator-"))

    def command(p: int) -> list[str]:
        # The hub and logging ports are the suite's defaults (4400, 4500) unless given:
        # free ones, so that parallel sessions never meet.
        config = folder / f"firebase-{p}.json"
        config.write_text(json.dumps({"emulators": {
            "auth": {"host": HOST, "port": p},
            "hub": {"host": HOST, "port": free_port()},
            "logging": {"host": HOST, "port": free_port()},
            "ui": {"enabled": False},
        }}))
        return [str(program), "emulators:start", "--only", "auth", "--project", project, "--config", str(config)]

    return AuthEmulator("auth-emulator", command, port, folder, project)


BIGQUERY_VENV = Path(__file__).resolve().parents[1] / ".venv-bq"
BIGQUERY_INSTALL = (
    "bqemulator lives in its own virtualenv (it pins protobuf below the Google clients): "
    "run `bash scripts/setup_emulators.sh` to build .venv-bq"
)


def bigquery_emulator(
    port: int | None = None,
    grpc_port: int | None = None,
    log_dir: Path | None = None,
    venv: Path = BIGQUERY_VENV,
) -> BigQueryEmulator:
    """A BigQueryEmulator (not started yet); EmulatorNotInstalled if .venv-bq lacks it."""
    program = venv / "bin" / "bqemulator"
    if not program.is_file():
        raise EmulatorNotInstalled(f"{program} not found: {BIGQUERY_INSTALL}")
    grpc = grpc_port or free_port()

    def command(p: int) -> list[str]:
        return [
            str(program), "start", "--ephemeral", "--log-level", "warning",
            "--rest-host", HOST, "--rest-port", str(p),
            "--grpc-host", HOST, "--grpc-port", str(grpc),
        ]

    return BigQueryEmulator("bigquery-emulator", command, port, grpc, log_dir)
