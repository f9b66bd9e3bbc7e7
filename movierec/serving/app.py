"""Wiring: settings -> stores -> model cache -> service, and the local all-in-one router."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import flask

from movierec.errors import MovierecError
from movierec.serving import http
from movierec.serving.models import ModelCache
from movierec.serving.service import RecommendService, ServingConfig
from movierec.settings import Settings
from movierec.stores.factory import Stores, make_stores

log = logging.getLogger(__name__)

RATING_SCALES = {"ml-100k": (1.0, 5.0), "ml-latest-small": (0.5, 5.0)}


@dataclass
class ServingApp:
    settings: Settings
    stores: Stores
    service: RecommendService

    def route(self, request: flask.Request) -> flask.Response:
        path = request.path.rstrip("/") or "/"
        max_bytes = self.settings.max_body_bytes
        if path == "/recommend":
            return http.handle_recommend(self.service, request, max_bytes)
        if path == "/feedback":
            return http.handle_feedback(self.service, request, max_bytes)
        if path == "/healthz":
            return http.handle_health(self.service, request)
        if path == "/ping":  # a trivial function on the same server, for the benchmark's ratio
            return http.json_response(200, {"ok": True})
        return http.not_found(request)


def build_service(settings: Settings, stores: Stores) -> RecommendService:
    models = ModelCache(stores.artifacts, refresh_seconds=settings.artifact_refresh_seconds)
    config = ServingConfig(
        token_secret=settings.token_secret,
        default_model=settings.default_model,
        rating_scale=RATING_SCALES.get(settings.dataset, (0.5, 5.0)),
    )
    return RecommendService(stores.events, models, config)


def build_app(env: Mapping[str, str]) -> ServingApp:
    settings = Settings.from_env(env)
    stores = make_stores(settings, env)
    service = build_service(settings, stores)
    try:
        service.warm()
    except MovierecError as exc:  # serve what we can; health says what is missing
        log.warning("warm-up incomplete: %s", exc)
    return ServingApp(settings, stores, service)
