"""The event contracts of docs/ARCHITECTURE.md ("Events") as typed values.

The same field names are used by every EventLog (SQLite, Firestore) and by the
warehouse tables (DuckDB, BigQuery). Timestamps are UTC epoch seconds (float) so
that they sort and compare the same way in every backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ExperimentStatus = Literal["running", "stopped"]
FeedbackType = Literal["click", "rating"]


@dataclass(frozen=True)
class Variant:
    name: str
    model: str  # model name, e.g. "svd" or "ease"
    version: str | None  # None: whatever version is live for that model
    weight: float


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    salt: str
    variants: tuple[Variant, ...]
    status: ExperimentStatus = "running"
    coverage: float = 1.0  # share of users in the experiment; the rest get the default
    primary_metric: str = "ctr"
    guardrails: tuple[str, ...] = ("ctr",)
    created_at: float = 0.0
    started_at: float = 0.0
    stopped_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["variants"] = [asdict(v) for v in self.variants]
        d["guardrails"] = list(self.guardrails)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Experiment:
        d = dict(d)
        d["variants"] = tuple(Variant(**v) for v in d["variants"])
        d["guardrails"] = tuple(d.get("guardrails") or ())
        return cls(**d)


@dataclass(frozen=True)
class Assignment:
    experiment_id: str
    user_id: int
    variant: str
    bucket: int
    ts: float  # first exposure

    @property
    def key(self) -> str:
        return f"{self.experiment_id}:{self.user_id}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Assignment:
        return cls(**{k: d[k] for k in ("experiment_id", "user_id", "variant", "bucket", "ts")})


@dataclass(frozen=True)
class Impression:
    request_id: str
    ts: float
    user_id: int
    experiment_id: str | None
    variant: str
    model_name: str
    model_version: str
    movie_ids: tuple[int, ...]
    scores: tuple[float, ...]
    fallback: str | None
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        # Built field by field: asdict() deep-copies, and this runs once per request.
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["movie_ids"] = list(self.movie_ids)
        d["scores"] = list(self.scores)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Impression:
        d = {k: d[k] for k in cls.__dataclass_fields__}
        d["movie_ids"] = tuple(int(m) for m in d["movie_ids"])
        d["scores"] = tuple(float(s) for s in d["scores"])
        return cls(**d)


@dataclass(frozen=True)
class Feedback:
    event_id: str
    ts: float
    request_id: str
    user_id: int
    movie_id: int
    type: FeedbackType
    value: float | None
    position: int  # 1-based rank of the movie in the impression
    experiment_id: str | None
    variant: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Feedback:
        d = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**d)
