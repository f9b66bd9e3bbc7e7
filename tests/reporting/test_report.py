"""render_text / render_html / log_fields on reports of simulated experiments."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser

import pytest

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import ExperimentData
from movierec.analysis.metrics import METRIC_LABELS
from movierec.analysis.readout import ExperimentReport, analyse
from movierec.reporting.report import log_fields, render_html, render_text
from tests.fixtures.abdata import ab_data, two_arm_experiment

EXPERIMENT = two_arm_experiment()


@pytest.fixture(scope="module")
def winning() -> tuple[ExperimentReport, ExperimentData]:
    data = ab_data(1, 5000, 5000, lift=0.3, days=5)
    return analyse(EXPERIMENT, data, AnalysisConfig()), data


class Page(HTMLParser):
    """Collects tags, table cells and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: dict[str, list[str]] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.cells[self._table or ""] = []
        self._in_cell = tag in ("td", "th")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_cell and self._table is not None:
            self.cells[self._table].append(data.strip())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


# --------------------------------------------------------------------------- text


def test_text_report_shows_the_numbers_and_the_verdict(winning) -> None:
    report, _ = winning
    text = render_text(report)
    a, b = report.variant("A"), report.variant("B")
    ctr = report.comparison("ctr", "B")
    assert f"{a.ctr:.4f}" in text and f"{b.ctr:.4f}" in text
    assert f"{a.impressions:,}" in text and f"{b.clicks:,}" in text
    assert f"{ctr.lift_rel:+.2%}" in text
    assert f"[{ctr.seq_ci_rel[0]:+.1%}, {ctr.seq_ci_rel[1]:+.1%}]" in text
    assert "A (control)" in text
    lines = text.rstrip().splitlines()
    verdict = lines.index(f"verdict: {report.decision.text}")
    assert lines[verdict + 1:] == [f"  - {r}" for r in report.decision.reasons]
    assert report.decision.text.startswith(f"B wins on {METRIC_LABELS['ctr']}")
    assert "  - split: ok" in text


def test_text_tables_are_aligned(winning) -> None:
    report, _ = winning
    lines = render_text(report).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("variant"))
    table = lines[start : start + 3]
    assert len({len(line) for line in table}) == 1  # right-aligned numbers end together
    header = table[0]
    for line in table[1:]:  # every CTR ends under the CTR heading
        assert line[header.index("CTR") + 3 - 1] != " "


def test_text_report_of_degenerate_data_says_why(winning) -> None:
    _, data = winning
    silent = dataclasses.replace(data, variants={"A": data.variants["A"]}, daily=[])
    text = render_text(analyse(EXPERIMENT, silent, AnalysisConfig()))
    assert "B has no impressions yet" in text
    assert "verdict: SRM: do not trust" in text
    empty = render_text(analyse(EXPERIMENT, ExperimentData("exp-1", {}), AnalysisConfig()))
    assert "verdict: no data yet" in empty


# --------------------------------------------------------------------------- HTML


def test_html_holds_the_tables_the_verdict_and_one_svg_per_plot(winning) -> None:
    report, data = winning
    html = render_html(report, data)
    page = parse(html)
    assert [t for t, _ in page.tags].count("svg") == 2
    variant_cells = page.cells["variants"]
    assert "A (control)" in variant_cells and "B" in variant_cells
    assert f"{report.variant('B').ctr:.4f}" in variant_cells
    assert f"{report.comparison('ctr', 'B').lift_rel:+.2%}" in page.cells["comparisons"]
    assert report.decision.text in "".join(page.text)
    # the plots draw the variants: legend text is kept as text in the SVG
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert ">A</text>" in svgs[0] and ">B</text>" in svgs[0]
    assert ">B vs A</text>" in svgs[1]
    assert f"cumulative {METRIC_LABELS['ctr']} per variant" in svgs[0] and "always-valid 95% CI" in svgs[1]


def test_html_is_self_contained(winning) -> None:
    report, data = winning
    page = parse(render_html(report, data))
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "img") or not (attrs.get("src") or attrs.get("href"))
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)


def test_html_is_deterministic_and_escapes_text(winning) -> None:
    report, data = winning
    assert render_html(report, data) == render_html(report, data)
    hostile = dataclasses.replace(report, experiment_id="<script>alert(1)</script>")
    html = render_html(hostile, data)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_html_without_daily_data_has_no_plots_but_says_so(winning) -> None:
    report, data = winning
    html = render_html(report, dataclasses.replace(data, daily=[]))
    assert "<svg" not in html
    assert "no daily data yet" in html


# --------------------------------------------------------------------------- structured log


def test_one_ab_report_record_per_variant(winning) -> None:
    report, _ = winning
    records = log_fields(report)
    assert [(r["event"], r["experiment_id"], r["variant"]) for r in records] == [
        ("ab_report", "exp-1", "A"),
        ("ab_report", "exp-1", "B"),
    ]
    assert records[1]["ctr"] == pytest.approx(report.variant("B").ctr)
    json.dumps(records, allow_nan=False)
    empty = log_fields(analyse(EXPERIMENT, ExperimentData("exp-1", {}), AnalysisConfig()))
    assert all("ctr" not in r for r in empty)  # no impressions: no false zero CTR
