"""Per-instance model cache: verified artifacts, refreshed when the live pointer moves.

Each instance loads a model once and keeps it; every ``refresh_seconds`` it reads the
small ``LIVE`` pointer and, if it moved, loads and verifies the new version. A version
that fails to load (checksum mismatch, missing file) is refused: the instance keeps the
last good version, and health reports what went wrong as one of :data:`PROBLEMS` (the
details, which name paths, buckets and projects, go to the logs only). On a cold start
there is no last good version: then the newest earlier version that verifies is served
(health names it and the refused live version), and only when none does is the model
missing (the service then falls back to ``popular``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from movierec.errors import ArtifactError, BackendUnavailable
from movierec.models.artifact import list_versions, live_version, load_artifact, read_items
from movierec.models.scoring import Scorer, scorer_for
from movierec.stores.ports import ArtifactStore

log = logging.getLogger(__name__)

FALLBACK_MODEL = "popular"
# What health may say about a model that failed to load: states, never raw messages.
PROBLEMS = ("live_pointer_unreadable", "no_live_version", "verification_failed", "store_unavailable")


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    scorer: Scorer
    titles: dict[int, str]
    genres: dict[int, str]
    loaded_at: float


@dataclass
class _Slot:
    model: LoadedModel | None = None
    checked_at: float = float("-inf")
    error: str | None = None  # one of PROBLEMS
    refused_version: str | None = None
    earlier: bool = False  # serving a version older than the refused live one (a cold start)


def load_model(store: ArtifactStore, name: str, version: str | None, now: float) -> LoadedModel:
    artifact = load_artifact(store, name, version)
    titles, genres = read_items(artifact)
    return LoadedModel(
        name=artifact.name,
        version=artifact.version,
        scorer=scorer_for(artifact.kind, artifact.arrays),
        titles=titles,
        genres=genres,
        loaded_at=now,
    )


class ModelCache:
    def __init__(
        self,
        store: ArtifactStore,
        *,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        on_load: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self.on_load = on_load  # after each model loaded: it lives until the next version
        self.clock, self.wall_clock = clock, wall_clock
        self._slots: dict[tuple[str, str | None], _Slot] = {}
        self._lock = threading.Lock()

    def get(self, name: str, version: str | None = None) -> LoadedModel | None:
        """The model to serve for ``name`` (pinned ``version`` or live), or None if none loads."""
        key = (name, version)
        slot = self._slots.get(key)
        now = self.clock()
        if slot is None or (version is None and now - slot.checked_at >= self.refresh_seconds):
            with self._lock:
                slot = self._slots.setdefault(key, _Slot())
                if (version is None and now - slot.checked_at >= self.refresh_seconds) or slot.model is None:
                    self._refresh(slot, name, version, now)
        return slot.model

    def problem(self, name: str, version: str | None = None) -> str | None:
        """What went wrong loading ``name`` (one of :data:`PROBLEMS`), None if nothing did."""
        slot = self._slots.get((name, version))
        return slot.error if slot is not None else None

    def _refresh(self, slot: _Slot, name: str, version: str | None, now: float) -> None:
        slot.checked_at = now
        try:
            target = version or live_version(self.store, name)
        except (ArtifactError, BackendUnavailable) as exc:
            slot.error = "live_pointer_unreadable"
            log.warning("cannot read the live pointer of %r: %s", name, exc)
            return
        if target is None:
            slot.error = "no_live_version"
            log.warning("model %r has no live version", name)
            return
        if (slot.model is not None and slot.model.version == target) or target == slot.refused_version:
            return  # unchanged, or already refused: don't re-download a bad version every refresh
        try:
            slot.model = load_model(self.store, name, target, self.wall_clock())
            slot.error, slot.refused_version, slot.earlier = None, None, False
            log.info("loaded model %s %s", name, target)
            self.on_load()
        except ArtifactError as exc:
            slot.error, slot.refused_version = "verification_failed", target
            log.error("refused model version %s %s: %s", name, target, exc)
            if slot.model is None and version is None:
                self._load_earlier(slot, name, target)
        except BackendUnavailable as exc:
            slot.error = "store_unavailable"
            log.warning("artifact store unavailable loading %s %s: %s", name, target, exc)

    def _load_earlier(self, slot: _Slot, name: str, refused: str) -> None:
        """Cold start on a refused live version: the newest earlier version that verifies."""
        try:
            earlier = [v for v in list_versions(self.store, name) if v < refused]
        except BackendUnavailable as exc:
            log.warning("cannot list the versions of %s: %s", name, exc)
            return
        for candidate in reversed(earlier):
            try:
                slot.model = load_model(self.store, name, candidate, self.wall_clock())
            except (ArtifactError, BackendUnavailable) as exc:
                log.error("earlier version refused too: %s", exc)
                continue
            slot.earlier = True
            self.on_load()
            log.error("live version %s of %s refused; serving the earlier verified version %s",
                      refused, name, candidate)
            return
        log.error("no version of %s verifies", name)

    def status(self) -> dict[str, Any]:
        out = {}
        for (name, version), slot in sorted(self._slots.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            label = name if version is None else f"{name}@{version}"
            out[label] = {
                "version": slot.model.version if slot.model else None,
                "loaded_at": slot.model.loaded_at if slot.model else None,
                "error": slot.error,
                "refused_version": slot.refused_version,
                "earlier_than_live": slot.earlier,
            }
        return out
