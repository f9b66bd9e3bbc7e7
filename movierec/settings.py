"""Typed settings, read from the environment once at an entry point and passed down.

This is the one module of the package that reads ``os.environ`` (a test checks it):
``Settings.from_env`` is called by the CLI, the functions' entry module and the jobs'
entry module only. It also writes the one thing the process environment must carry for a
library rather than for us: the telemetry opt-out of the libraries the jobs import
(:func:`opt_out_of_library_telemetry`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from movierec.errors import ConfigError

Backend = Literal["local", "gcp"]
AuthMode = Literal["none", "firebase"]
DEV_TOKEN_SECRET = "dev-only-secret"


MAX_FOLDIN_EVENTS = 500


@dataclass(frozen=True)
class Settings:
    backend: Backend = "local"
    home: Path = Path(".movierec")
    movielens_dir: Path | None = None
    data_cache: Path = Path.home() / ".cache" / "movierec"
    dataset: str = "ml-100k"
    # A published dataset version in the artifact store to train on ("validated": the one
    # the retrain workflow validated last); None: MOVIELENS_DIR or the official download.
    dataset_version: str | None = None
    seed: int = 42
    mlflow_tracking_uri: str | None = None
    # Google Cloud
    gcp_project: str | None = None
    artifact_bucket: str | None = None
    firestore_database: str = "(default)"
    bigquery_dataset: str = "movierec"
    # Days an event document (assignment, impression, feedback) stays in Firestore before
    # its TTL deletes it; the warehouse keeps the exported copy.
    event_retention_days: int = 90
    # Local stand-ins of Google Cloud (tests, demos): host:port or a URL; None in production
    storage_emulator_host: str | None = None
    firestore_emulator_host: str | None = None
    bigquery_emulator_host: str | None = None
    # Serving
    token_secret: str = field(default=DEV_TOKEN_SECRET, repr=False)
    default_model: str = "svd"
    max_body_bytes: int = 64 * 1024
    artifact_refresh_seconds: float = 60.0
    # Outages: every request's backend calls share one deadline; the event log's circuit
    # breaker opens after this many failures in a row and probes again after reset seconds.
    request_deadline_seconds: float = 1.0
    breaker_failures: int = 3
    breaker_reset_seconds: float = 0.5
    # New users: the latest this-many feedback events of a user the model does not know are
    # folded into what it scores (0: never), cached per instance for cache seconds, read
    # within at most read seconds of the request's deadline.
    foldin_events: int = 50
    foldin_cache_seconds: float = 2.0
    foldin_read_seconds: float = 0.5
    # The HTTP server (`movierec serve`): slow clients are cut off, connections bounded,
    # and a SIGTERM drains in-flight requests within the grace seconds.
    header_timeout_seconds: float = 5.0
    body_timeout_seconds: float = 10.0
    keepalive_seconds: float = 5.0
    worker_connections: int = 200
    graceful_timeout_seconds: float = 8.0
    # How long a recommendation's token vouches for feedback on it.
    token_ttl_seconds: float = 24 * 3600.0
    # /metrics answers loopback clients, and others only with this bearer token.
    metrics_token: str | None = field(default=None, repr=False)
    # Prometheus multiprocess mode: where the workers of `movierec serve` keep their metric
    # values (the server sets it for its workers; a folder of your own may be given).
    prometheus_multiproc_dir: Path | None = None
    # Alerts
    alert_webhook_url: str | None = field(default=None, repr=False)
    # A variant's CTR below this floor alerts from the daily report; None: no floor check.
    ctr_alert_floor: float | None = None
    # Logs of functions and jobs (JSON lines for Cloud Logging)
    log_level: str = "INFO"
    # Who the caller is. "none": the user_id parameter is trusted (a backend of yours calls
    # the functions). "firebase": /recommend and /feedback need a Firebase ID token
    # (Authorization: Bearer), whose uid users/{uid} maps to the recommender's user id.
    auth: AuthMode = "none"
    # Also ask Firebase Auth, per request, whether the token's session was revoked or the
    # account disabled (one lookup per request); off: a revoked token works until it expires.
    auth_check_revoked: bool = False
    # The Firebase Auth emulator (tests, demos). firebase-admin reads the same variable
    # from the environment itself; Settings keep it for the demo page's sign-in.
    auth_emulator_host: str | None = None

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Values the log redaction must never let through."""
        return (self.token_secret, self.alert_webhook_url, self.metrics_token)

    @property
    def artifact_dir(self) -> Path:
        return self.home / "artifacts"

    @property
    def sqlite_path(self) -> Path:
        return self.home / "events.sqlite"

    @property
    def duckdb_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifacts(self) -> str | None:
        """Where a new MLflow experiment keeps its runs' files: ``mlartifacts/`` beside a
        SQLite tracking store (so on the retrain job's Cloud Storage mount they survive the
        job with it); None for a tracking server, which chooses its own artifact store."""
        uri = self.tracking_uri
        if not uri.startswith("sqlite:///"):
            return None
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        backend = env.get("MOVIEREC_BACKEND", "local")
        if backend not in ("local", "gcp"):
            raise ConfigError(f"MOVIEREC_BACKEND must be 'local' or 'gcp', got {backend!r}")
        settings = cls(
            backend=backend,  # type: ignore[arg-type]
            home=Path(env.get("MOVIEREC_HOME", ".movierec")),
            movielens_dir=Path(env["MOVIELENS_DIR"]) if env.get("MOVIELENS_DIR") else None,
            data_cache=Path(env.get("MOVIEREC_DATA_CACHE", str(cls.data_cache))),
            dataset=env.get("MOVIEREC_DATASET", "ml-100k"),
            dataset_version=env.get("MOVIEREC_DATASET_VERSION") or None,
            seed=_int(env, "MOVIEREC_SEED", 42),
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
            gcp_project=env.get("GOOGLE_CLOUD_PROJECT") or None,
            artifact_bucket=env.get("MOVIEREC_ARTIFACT_BUCKET") or None,
            firestore_database=env.get("MOVIEREC_FIRESTORE_DATABASE", "(default)"),
            bigquery_dataset=env.get("MOVIEREC_BQ_DATASET", "movierec"),
            event_retention_days=_int(env, "MOVIEREC_EVENT_RETENTION_DAYS", 90, minimum=1),
            storage_emulator_host=env.get("STORAGE_EMULATOR_HOST") or None,
            firestore_emulator_host=env.get("FIRESTORE_EMULATOR_HOST") or None,
            bigquery_emulator_host=env.get("BIGQUERY_EMULATOR_HOST") or None,
            token_secret=env.get("MOVIEREC_TOKEN_SECRET", DEV_TOKEN_SECRET),
            default_model=env.get("MOVIEREC_DEFAULT_MODEL", "svd"),
            max_body_bytes=_int(env, "MOVIEREC_MAX_BODY_BYTES", 64 * 1024),
            artifact_refresh_seconds=_float(env, "MOVIEREC_ARTIFACT_REFRESH_SECONDS", 60.0),
            request_deadline_seconds=_positive(env, "MOVIEREC_REQUEST_DEADLINE_SECONDS", 1.0),
            breaker_failures=_int(env, "MOVIEREC_BREAKER_FAILURES", 3, minimum=1),
            breaker_reset_seconds=_positive(env, "MOVIEREC_BREAKER_RESET_SECONDS", 0.5),
            foldin_events=_int(env, "MOVIEREC_FOLDIN_EVENTS", 50, minimum=0),
            foldin_cache_seconds=_float(env, "MOVIEREC_FOLDIN_CACHE_SECONDS", 2.0),
            foldin_read_seconds=_positive(env, "MOVIEREC_FOLDIN_READ_SECONDS", 0.5),
            header_timeout_seconds=_positive(env, "MOVIEREC_HEADER_TIMEOUT_SECONDS", 5.0),
            body_timeout_seconds=_positive(env, "MOVIEREC_BODY_TIMEOUT_SECONDS", 10.0),
            keepalive_seconds=_positive(env, "MOVIEREC_KEEPALIVE_SECONDS", 5.0),
            worker_connections=_int(env, "MOVIEREC_WORKER_CONNECTIONS", 200, minimum=1),
            graceful_timeout_seconds=_positive(env, "MOVIEREC_GRACEFUL_TIMEOUT_SECONDS", 8.0),
            token_ttl_seconds=_float(env, "MOVIEREC_TOKEN_TTL_SECONDS", 24 * 3600.0),
            metrics_token=env.get("MOVIEREC_METRICS_TOKEN") or None,
            prometheus_multiproc_dir=(
                Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR") else None
            ),
            alert_webhook_url=env.get("MOVIEREC_ALERT_WEBHOOK_URL") or None,
            # 0 (Terraform's way of saying "no floor") disables the check, like unset.
            ctr_alert_floor=_float(env, "MOVIEREC_CTR_ALERT_FLOOR", 0.0) or None,
            log_level=env.get("MOVIEREC_LOG_LEVEL", "INFO").upper(),
            auth=_choice(env, "MOVIEREC_AUTH", ("none", "firebase")),  # type: ignore[arg-type]
            auth_check_revoked=_flag(env, "MOVIEREC_AUTH_CHECK_REVOKED"),
            auth_emulator_host=env.get("FIREBASE_AUTH_EMULATOR_HOST") or None,
        )
        if settings.auth == "firebase" and not settings.gcp_project:
            raise ConfigError(
                "MOVIEREC_AUTH=firebase needs GOOGLE_CLOUD_PROJECT: ID tokens are checked "
                "against the Firebase project they were issued for"
            )
        if settings.token_ttl_seconds <= 0:
            raise ConfigError("MOVIEREC_TOKEN_TTL_SECONDS must be positive: a token must vouch for a while")
        if settings.foldin_events > MAX_FOLDIN_EVENTS:  # every one is a document read per request
            raise ConfigError(f"MOVIEREC_FOLDIN_EVENTS must be at most {MAX_FOLDIN_EVENTS}, got {settings.foldin_events}")
        if settings.backend == "gcp":
            missing = [
                name
                for name, value in (
                    ("GOOGLE_CLOUD_PROJECT", settings.gcp_project),
                    ("MOVIEREC_ARTIFACT_BUCKET", settings.artifact_bucket),
                )
                if not value
            ]
            if missing:
                raise ConfigError(f"MOVIEREC_BACKEND=gcp needs {', '.join(missing)}")
        # The token secret is serving's alone (movierec.serving.app refuses the dev key on
        # gcp): the jobs sign no tokens and are not given the secret.
        return settings

    @property
    def has_dev_token_secret(self) -> bool:
        return self.token_secret == DEV_TOKEN_SECRET


def _int(env: Mapping[str, str], name: str, default: int, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default when unset)."""
    raw = env.get(name) or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, got {raw!r}")
    return raw


def _flag(env: Mapping[str, str], name: str) -> bool:
    """true/false (also 1/0, yes/no); unset is false."""
    raw = (env.get(name) or "false").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise ConfigError(f"{name} must be true or false, got {env.get(name)!r}")


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds that must be above zero (a zero timeout would refuse everything)."""
    value = _float(env, name, default)
    if value == 0:
        raise ConfigError(f"{name} must be above 0, got {env.get(name)!r}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a non-negative number, got {raw!r}")
    return value


# Usage telemetry of the libraries the jobs import, switched off by the variables their
# documentation names: Evidently (and the iterative-telemetry it sends through) honour
# DO_NOT_TRACK set to any value; its legacy modules read EVIDENTLY_DISABLE_TELEMETRY=1.
# An operator's own value wins (setdefault). The jobs' image sets them too (Dockerfile).
LIBRARY_TELEMETRY_OPT_OUT = {"DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"}


def opt_out_of_library_telemetry() -> None:
    """Write the opt-out variables into this process's environment, before the library loads."""
    for name, value in LIBRARY_TELEMETRY_OPT_OUT.items():
        os.environ.setdefault(name, value)
