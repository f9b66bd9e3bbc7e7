"""Evidently runs the distribution tests of the drift report and renders its own HTML.

One Evidently ``Report`` of ``ValueDrift`` metrics, one per comparison of
:mod:`movierec.reporting.drift_columns` (a column of one segment, current window
against reference window), with Evidently's tests on (``include_tests=True``): a
column's check fails when Evidently's test for it fails, i.e. when its drift score is
beyond the threshold of its method (a distance above it, a p-value below it).

Columns of different lengths share one pair of datasets: each is padded with missing
values, which Evidently drops before testing a column. Only per-column metrics are in
the report, so the padding is never compared. Values are in time order, so
Evidently's "data drift" scatter of the current values reads left to right in time.

Evidently is imported here only: the jobs install it (requirements.txt), serving does
not (requirements-serving.txt). Its usage telemetry is switched off before the import
(:func:`movierec.settings.opt_out_of_library_telemetry`); Evidently documents that it
collects telemetry only from its monitoring UI, which the project does not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from movierec.reporting.drift_columns import Comparison, Outcome
from movierec.settings import opt_out_of_library_telemetry

opt_out_of_library_telemetry()

import evidently  # noqa: E402  (after the opt-out: a legacy module reads it at import)
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.metrics import ValueDrift  # noqa: E402

EVIDENTLY_VERSION: str = evidently.__version__


@dataclass(frozen=True)
class EvidentlyRun:
    outcomes: dict[str, Outcome]  # by Comparison.column
    html: str  # Evidently's own self-contained page
    tests: list[dict[str, Any]]  # Evidently's test results (name, status, description)


def compare(comparisons: Sequence[Comparison]) -> EvidentlyRun:
    """Run every comparison in one Evidently report."""
    if not comparisons:
        raise ValueError("nothing to compare")
    definition = DataDefinition(
        numerical_columns=[c.column for c in comparisons if c.test.kind == "numerical"],
        categorical_columns=[c.column for c in comparisons if c.test.kind == "categorical"],
    )
    reference, current = (
        Dataset.from_pandas(pd.DataFrame({c.column: getattr(c, side) for c in comparisons}), data_definition=definition)
        for side in ("reference", "current")
    )
    report = Report(
        [ValueDrift(column=c.column, method=c.test.method, threshold=c.threshold) for c in comparisons],
        include_tests=True,
    )
    snapshot = report.run(current_data=current, reference_data=reference)
    result = snapshot.dict()
    scores = {m["id"]: (m["config"]["column"], float(m["value"])) for m in result["metrics"]}
    outcomes: dict[str, Outcome] = {}
    for test in result["tests"]:
        column, score = scores[test["metric_config"]["metric_id"]]
        outcomes[column] = Outcome(
            drifted=test["status"] == "FAIL",
            score=score,
            description=test["description"],
        )
    missing = {c.column for c in comparisons} - set(outcomes)
    if missing:
        raise RuntimeError(f"Evidently gave no test result for {sorted(missing)}")
    tests = [{"name": t["name"], "status": t["status"], "description": t["description"]} for t in result["tests"]]
    return EvidentlyRun(outcomes, snapshot.get_html_str(as_iframe=False), tests)

