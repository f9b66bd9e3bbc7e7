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
# "ab": each user sees one variant's list. "interleaved": each user sees one list merged
# from two variants' lists, every item credited to one (movierec.experiments.interleaving).
Design = Literal["ab", "interleaved"]
DESIGNS: tuple[str, ...] = ("ab", "interleaved")
INTERLEAVED_VARIANT = "interleaved"  # the variant of every user of an interleaved experiment


@dataclass(frozen=True)
class Variant:
    name: str
    model: str  # model name, e.g. "svd" or "ease"
    version: str | None  # None: whatever version is live for that model
    weight: float


# Non-inferiority margins of guardrails, relative to the control (0.02: a drop of up to 2%
# is tolerated). They are part of the stored contract, not of the analysis code: a config
# stored without margins (before they existed) must keep meaning the same thing whatever
# the analysis defaults later become. README "Decision rule" explains the values.
DEFAULT_GUARDRAIL_MARGINS: dict[str, float] = {
    "ctr": 0.02,
    "item_ctr": 0.02,
    "clicks_per_user": 0.02,
    "rating": 0.01,
}
DEFAULT_GUARDRAIL_MARGIN = 0.02  # any other metric


def default_margin(metric: str) -> float:
    return DEFAULT_GUARDRAIL_MARGINS.get(metric, DEFAULT_GUARDRAIL_MARGIN)


@dataclass(frozen=True)
class Guardrail:
    """A metric that must not get worse than the control by more than ``margin`` (relative)."""

    metric: str
    margin: float


@dataclass(frozen=True)
class GuardrailPlan:
    """The power planned for one guardrail's non-inferiority test.

    ``users_per_variant``: at which the always-valid bound clears the margin with the
    plan's power when the true lift is 0 (None: no sample size up to 1e13 does).
    """

    metric: str
    baseline: float  # the guardrail's control mean assumed
    baseline_variance: float  # its per-user variance assumed
    users_per_variant: int | None


@dataclass(frozen=True)
class Plan:
    """The experiment's sample-size plan, fixed before the data are seen.

    ``total_users`` (all variants) is the always-valid test's tuning parameter; it and
    ``users_per_variant`` are None when no baseline was given (the test is then tuned
    for the analysis default, which the report states).
    """

    mde: float  # relative lift of the primary metric to detect, 0.05 = +5%
    alpha: float
    power: float
    baseline: float | None = None  # the primary metric's control mean assumed
    baseline_variance: float | None = None  # its per-user variance assumed
    users_per_variant: int | None = None
    total_users: int | None = None
    guardrails: tuple[GuardrailPlan, ...] = ()  # the guardrails given a baseline

    def __post_init__(self) -> None:
        object.__setattr__(self, "guardrails", tuple(
            g if isinstance(g, GuardrailPlan) else GuardrailPlan(
                metric=str(g["metric"]), baseline=float(g["baseline"]),
                baseline_variance=float(g["baseline_variance"]),
                users_per_variant=None if g.get("users_per_variant") is None else int(g["users_per_variant"]),
            )
            for g in self.guardrails or ()
        ))

    @property
    def users_to_run(self) -> int | None:
        """Users per variant the whole rule needs: the primary's, or a guardrail's if larger."""
        sizes = [self.users_per_variant, *(g.users_per_variant for g in self.guardrails)]
        known = [n for n in sizes if n is not None]
        return max(known) if known else None


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    salt: str
    variants: tuple[Variant, ...]
    status: ExperimentStatus = "running"
    coverage: float = 1.0  # share of users in the experiment; the rest get the default
    primary_metric: str = "ctr"
    guardrails: tuple[Guardrail, ...] = ()
    created_at: float = 0.0
    started_at: float = 0.0
    stopped_at: float | None = None
    secondary_metrics: tuple[str, ...] = ()  # shown, exploratory: never change the verdict
    plan: Plan | None = None  # None: stored before plans existed (the analysis defaults apply)
    design: Design = "ab"

    def __post_init__(self) -> None:
        # Metric names alone (older callers, older rows) mean the default margin.
        guardrails = tuple(
            g if isinstance(g, Guardrail) else Guardrail(str(g), default_margin(str(g)))
            for g in self.guardrails
        )
        object.__setattr__(self, "guardrails", guardrails)
        object.__setattr__(self, "secondary_metrics", tuple(self.secondary_metrics))

    def to_dict(self) -> dict[str, Any]:
        """The stored form, the same in the event logs and the warehouse table.

        Guardrails are two parallel lists, names and margins: the warehouse column
        ``guardrails`` (names) predates margins and keeps its type.
        """
        d = asdict(self)
        d["variants"] = [asdict(v) for v in self.variants]
        d["guardrails"] = [g.metric for g in self.guardrails]
        d["guardrail_margins"] = [g.margin for g in self.guardrails]
        d["secondary_metrics"] = list(self.secondary_metrics)
        # The guardrails' plans are a column of their own (a warehouse table takes a new
        # column, not a new field of an existing record).
        d["plan"] = None if self.plan is None else {
            k: v for k, v in asdict(self.plan).items() if k != "guardrails"}
        d["guardrail_plans"] = [] if self.plan is None else [asdict(g) for g in self.plan.guardrails]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Experiment:
        """Reads every stored form: configs without margins, secondaries or a plan too."""
        d = dict(d)
        d["variants"] = tuple(Variant(**v) for v in d["variants"])
        names = list(d.get("guardrails") or ())
        margins = list(d.pop("guardrail_margins", None) or ())
        margins += [None] * (len(names) - len(margins))
        d["guardrails"] = tuple(
            Guardrail(name, default_margin(name) if margin is None else float(margin))
            for name, margin in zip(names, margins)
        )
        d["secondary_metrics"] = tuple(d.get("secondary_metrics") or ())
        plan = d.get("plan")
        guardrail_plans = d.pop("guardrail_plans", None) or ()
        d["plan"] = Plan(**{**plan, "guardrails": guardrail_plans}) if plan else None
        d["design"] = d.get("design") or "ab"  # stored before designs existed: an A/B test
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
class Ranker:
    """One of the rankers an interleaved list was merged from."""

    variant: str
    model_name: str
    model_version: str


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
    # Interleaved lists only (empty otherwise, and in rows stored before interleaving):
    # the variant each shown movie is credited to, aligned with movie_ids, and the rankers.
    credits: tuple[str, ...] = ()
    rankers: tuple[Ranker, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        # Built field by field: asdict() deep-copies, and this runs once per request.
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["movie_ids"] = list(self.movie_ids)
        d["scores"] = list(self.scores)
        d["credits"] = list(self.credits)
        d["rankers"] = [asdict(r) for r in self.rankers]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Impression:
        d = {k: d.get(k) for k in cls.__dataclass_fields__}
        d["movie_ids"] = tuple(int(m) for m in d["movie_ids"])
        d["scores"] = tuple(float(s) for s in d["scores"])
        d["credits"] = tuple(str(c) for c in d["credits"] or ())
        d["rankers"] = tuple(Ranker(**r) for r in d["rankers"] or ())
        return cls(**d)

    def credit_of(self, movie_id: int) -> Ranker | None:
        """The ranker a shown movie is credited to (None: not an interleaved list)."""
        if not self.credits:
            return None
        variant = self.credits[self.movie_ids.index(movie_id)]
        return next((r for r in self.rankers if r.variant == variant), None)


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
    # Interleaved lists only: the variant the movie was credited to, and its model version.
    credit: str | None = None
    credit_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Feedback:
        d = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if d.get("extra") is None:
            d.pop("extra", None)
        return cls(**d)
