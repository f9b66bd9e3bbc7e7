"""Wiring: settings -> stores -> model cache -> service, and the local all-in-one router."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import flask
import numpy as np

from movierec.data.registry import rating_scale_of
from movierec.errors import ConfigError, DataError, MovierecError
from movierec.observability.instrument import MeteredEventLog, observe
from movierec.observability.logging import configure_logging
from movierec.observability.metrics import ServingMetrics
from movierec.serving import http
from movierec.serving.identity import Authenticator
from movierec.serving.models import ModelCache
from movierec.serving.service import RecommendService, ServingConfig
from movierec.settings import Settings
from movierec.stores.breaker import BreakerEventLog, CircuitBreaker
from movierec.stores.factory import Stores, make_stores, make_user_directory
from movierec.web.movies import Source
from movierec.web.pages import WebPages, build_pages, is_web_path

log = logging.getLogger(__name__)

# Metric/log label of each route: the name of the Cloud Run function that serves it.
FUNCTION_OF_PATH = {"/recommend": "recommend", "/feedback": "feedback", "/healthz": "health", "/ping": "ping"}


def function_of(path: str) -> str:
    """The metric/log label of ``path``; the demo page's routes are all ``web``."""
    return FUNCTION_OF_PATH.get(path) or ("web" if is_web_path(path) else "not_found")


@dataclass
class ServingApp:
    settings: Settings
    stores: Stores
    service: RecommendService
    metrics: ServingMetrics = field(default_factory=ServingMetrics.create)
    web: WebPages | None = None  # the demo page, on the local all-in-one server only
    auth: Authenticator | None = None  # MOVIEREC_AUTH=firebase; None: user_id is trusted

    def observed(self, function: str, request: flask.Request, handle: Callable[[], flask.Response]) -> flask.Response:
        """``handle()`` with this request's metrics and its one structured log line."""
        return observe(self.metrics, function, request, handle, project=self.settings.gcp_project)

    def route(self, request: flask.Request) -> flask.Response:
        path = request.path.rstrip("/") or "/"
        if path == "/metrics":  # scrapes are not requests of the service: not counted
            return http.handle_metrics(self.metrics, request, self.settings.metrics_token)
        return self.observed(function_of(path), request, lambda: self._dispatch(path, request))

    def _dispatch(self, path: str, request: flask.Request) -> flask.Response:
        max_bytes = self.settings.max_body_bytes
        if path == "/recommend":
            return http.handle_recommend(self.service, request, max_bytes, self.auth)
        if path == "/feedback":
            return http.handle_feedback(self.service, request, max_bytes, self.auth)
        if path == "/healthz":
            return http.handle_health(self.service, request)
        if path == "/ping":  # a trivial function on the same server, for the benchmark's ratio
            return http.json_response(200, {"ok": True})
        if self.web is not None and is_web_path(path):
            return self.web.handle(path, request)
        return http.not_found(request)


def serving_config(settings: Settings) -> ServingConfig:
    """ConfigError for a dataset movierec does not know (its ratings' bounds would be a
    guess), and for the development token key on Google Cloud (anyone could forge tokens)."""
    if settings.backend == "gcp" and settings.has_dev_token_secret:
        raise ConfigError("MOVIEREC_BACKEND=gcp needs MOVIEREC_TOKEN_SECRET (Secret Manager)")
    if settings.backend == "gcp" and settings.auth_emulator_host and not settings.firestore_emulator_host:
        # firebase-admin trusts unsigned tokens whenever this is set: never beside real Firestore.
        raise ConfigError("FIREBASE_AUTH_EMULATOR_HOST is set on Google Cloud: unset it (the emulator accepts forged tokens)")
    try:
        scale = rating_scale_of(settings.dataset)
    except DataError as exc:
        raise ConfigError(f"MOVIEREC_DATASET: {exc}") from None
    return ServingConfig(
        token_secret=settings.token_secret,
        rating_scale=scale,
        default_model=settings.default_model,
        request_deadline_seconds=settings.request_deadline_seconds,
        token_ttl_seconds=settings.token_ttl_seconds,
        foldin_events=settings.foldin_events,
        foldin_cache_seconds=settings.foldin_cache_seconds,
        foldin_read_seconds=settings.foldin_read_seconds,
    )


def build_service(config: ServingConfig, settings: Settings, stores: Stores) -> RecommendService:
    models = ModelCache(stores.artifacts, refresh_seconds=settings.artifact_refresh_seconds, on_load=gc.freeze)
    return RecommendService(stores.events, models, config)


def build_authenticator(settings: Settings) -> Authenticator | None:
    """``MOVIEREC_AUTH=firebase``: ID tokens checked by firebase-admin, uids looked up in
    ``users/{uid}`` (Firestore, or SQLite's table ``users``); ``none``: no authenticator."""
    if settings.auth == "none":
        return None
    from movierec.serving.firebase_auth import FirebaseVerifier  # firebase-admin only when used

    assert settings.gcp_project is not None  # Settings.from_env refuses firebase without it
    verifier = FirebaseVerifier(settings.gcp_project, check_revoked=settings.auth_check_revoked,
                                http_timeout=settings.request_deadline_seconds,
                                emulator_host=settings.auth_emulator_host)
    return Authenticator(verifier, make_user_directory(settings), settings.request_deadline_seconds)


def build_app(settings: Settings) -> ServingApp:
    """Everything an instance serves with, from the Settings its entry module read once."""
    # Before anything logs: JSON lines for Cloud Logging, secrets redacted.
    configure_logging(settings.log_level, secrets=settings.secrets)
    config = serving_config(settings)  # before any backend is reached: a bad setting fails fast
    metrics = ServingMetrics.create(multiprocess_dir=settings.prometheus_multiproc_dir)
    stores = make_stores(settings)
    unmetered_events = stores.events  # the page's A/B panel reads it; not a request's work
    breaker = CircuitBreaker(
        "the event log", failures=settings.breaker_failures, reset_seconds=settings.breaker_reset_seconds
    )
    stores = replace(stores, events=MeteredEventLog(BreakerEventLog(stores.events, breaker), metrics))
    service = build_service(config, settings, stores)
    try:
        service.warm()
    except MovierecError as exc:  # serve what we can; health says what is missing
        log.warning("warm-up incomplete: %s", exc)
    # What the instance holds from here on (models, titles, clients, Flask) lives as long as
    # it does: out of the cyclic collector's sight. Before this, a full collection walked
    # those ~56,000 objects in 16-37 ms, a pause every request in flight waited through
    # (p99 at 200 req/s, scripts/bench_serving.py). Reference counting still frees them.
    gc.freeze()
    def known_user_ids() -> np.ndarray | None:
        model = service.models.get(settings.default_model)
        return model.scorer.user_ids if model is not None else None

    def default_model() -> Source | None:
        model = service.models.get(settings.default_model)
        return None if model is None else Source((model.name, model.version), model.scorer, model.titles, model.genres)

    web = build_pages(unmetered_events, known_user_ids, default_model, auth_mode=settings.auth,
                      auth_emulator=settings.auth_emulator_host)
    return ServingApp(settings, stores, service, metrics, web, build_authenticator(settings))
