"""The text report, the HTML report and the live panel show the same verdict, reasons,
intervals and colours: all three are built from one ReadoutView."""

from __future__ import annotations

import dataclasses
import html as htmllib
import json
from html.parser import HTMLParser

import numpy as np
import pytest

from movierec.analysis.data import Capping, Exclusions, ExperimentData
from movierec.analysis.readout import ExperimentReport, analyse
from movierec.events import Guardrail, Plan
from movierec.reporting.report import render_html, render_text
from movierec.reporting.view import ReadoutView, build_view
from movierec.web.live_ab import panel
from tests.fixtures.abdata import experiment_data, simulate_users, two_arm_experiment

EXPERIMENT = two_arm_experiment(
    guardrails=(Guardrail("rating", 0.10),),
    secondary_metrics=("clicks_per_user",),
    plan=Plan(mde=0.2, alpha=0.05, power=0.8, baseline=0.1, baseline_variance=0.09,
              users_per_variant=3000, total_users=6000),
)


def data_with(lift: float, seed: int = 5, n: int = 5000) -> ExperimentData:
    rng = np.random.default_rng(seed)
    data = experiment_data("exp-1", {"A": simulate_users(rng, n), "B": simulate_users(rng, n, lift=lift)})
    return dataclasses.replace(
        data,
        exclusions=Exclusions(multiple_variants=7, heavy_users=3, activity_threshold=500,
                              assigned_users=2 * n + 10),
        capping=Capping(percentile=0.99, caps={"clicks": 14.0, "impressions": 30.0}, capped_users=21),
    )


class Page(HTMLParser):
    """The verdict, the reasons, the checks and the comparison rows of the HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.verdict = ""
        self.lists: dict[str, list[str]] = {"reasons": [], "checks": []}
        self.rows: list[dict] = []
        self._where: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "p" and a.get("id") == "verdict":
            self._where.append("verdict")
        elif tag == "ul" and a.get("id") in self.lists:
            self._where.append(a["id"])
        elif tag == "li" and self._where and self._where[-1] in self.lists:
            self.lists[self._where[-1]].append("")
        elif tag == "tr" and "data-metric" in a:
            self.rows.append({"metric": a["data-metric"], "variant": a["data-variant"],
                              "class": a["class"].split(), "ci": ""})
        elif tag == "td" and "ci" in (a.get("class") or "").split():
            self._where.append("ci")

    def handle_endtag(self, tag):
        if self._where and ((tag == "p" and self._where[-1] == "verdict") or (tag == "ul" and self._where[-1] in self.lists)
                            or (tag == "td" and self._where[-1] == "ci")):
            self._where.pop()

    def handle_data(self, data):
        if not self._where:
            return
        where = self._where[-1]
        if where == "verdict":
            self.verdict += data
        elif self.lists.get(where):
            self.lists[where][-1] += data
        elif where == "ci":
            self.rows[-1]["ci"] += data


def render_all(report: ExperimentReport, data: ExperimentData) -> tuple[ReadoutView, str, Page, dict]:
    page = Page()
    page.feed(render_html(report, data))
    body = json.loads(json.dumps(panel(EXPERIMENT, report, computed_at=0.0), allow_nan=False))
    return build_view(report), render_text(report), page, body


@pytest.mark.parametrize(("lift", "verdict", "tone"), [(0.3, "wins", "good"), (-0.3, "loses", "bad"), (0.0, None, "neutral")])
def test_text_html_and_panel_agree(lift: float, verdict: str | None, tone: str) -> None:
    data = data_with(lift)
    report = analyse(EXPERIMENT, data)
    view, text, page, body = render_all(report, data)
    if verdict is not None:
        assert view.verdict == verdict

    # The verdict and its reasons, word for word.
    assert body["verdict"] == {"code": view.verdict, "text": view.verdict_text, "reasons": list(view.reasons)}
    assert f"verdict: {view.verdict_text}\n" + "".join(f"  - {r}\n" for r in view.reasons) in text
    assert page.verdict == view.verdict_text
    assert page.lists["reasons"] == list(view.reasons)
    assert view.verdict_text == report.decision.text and view.reasons == report.decision.reasons

    # Every comparison's interval, level and colour.
    assert body["comparisons"] == [dataclasses.asdict(row) for row in view.comparisons]
    assert [(r["metric"], r["variant"], r["ci"]) for r in page.rows] == [
        (row.metric, row.variant, row.ci) for row in view.comparisons]
    for row, html_row in zip(view.comparisons, page.rows):
        assert row.tone in html_row["class"] and row.role in html_row["class"]
        assert f"  {row.ci}  " in text and row.level in text
    primary = view.comparisons[0]
    assert primary.role == "primary" and primary.tone == tone

    # Per-variant intervals, the checks (exclusions, capping, plan) and notes.
    assert [v["ctr_ci_text"] for v in body["variants"]] == [v.ctr_ci for v in view.variants]
    for v in view.variants:
        assert v.ctr_ci in text
    assert body["checks"] == list(view.checks) == page.lists["checks"]
    for line in view.checks:
        assert line in text
    assert any(line.startswith("excluded from every metric: 7 users served more than one variant and "
                               "3 heavy users (above 500 events)") for line in view.checks)
    assert "capping: per-user values above the 99th percentile lowered (21 users): clicks at 14, impressions at 30" in (
        view.checks)
    assert body["notes"] == list(view.notes)


def test_html_escapes_what_the_panel_and_text_show_raw() -> None:
    hostile = dataclasses.replace(EXPERIMENT, experiment_id="<b>x</b>")
    data = dataclasses.replace(data_with(0.3), experiment_id="<b>x</b>")
    report = analyse(hostile, data)
    html = render_html(report, data)
    assert "<b>x</b>" not in html and htmllib.escape("<b>x</b>") in html
    assert "experiment <b>x</b>" in render_text(report)


def test_colours_follow_the_sign_not_the_significance_alone() -> None:
    """A significant drop is red even when it passes its guardrail margin."""
    rng = np.random.default_rng(2)
    data = experiment_data("exp-1", {"A": simulate_users(rng, 20000),
                                     "B": simulate_users(rng, 20000, lift=0.3, rating_shift=-0.2)})
    report = analyse(EXPERIMENT, data)
    rows = {r.metric: r for r in build_view(report).comparisons}
    assert report.comparison("rating", "B").outcome == "non_inferior"
    assert rows["rating"].tone == "bad" and rows["rating"].status == "non-inferior"
    assert rows["ctr"].tone == "good"
