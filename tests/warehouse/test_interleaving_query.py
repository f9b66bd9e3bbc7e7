"""The per-user preference query on DuckDB and the BigQuery emulator, against a hand count,
and the read-out `movierec report` prints from it."""

from __future__ import annotations

from movierec.analysis.interleaving import analyse_interleaving, load_preferences
from movierec.events import Experiment, Feedback, Variant
from movierec.reporting.interleaving import interleaving_view
from movierec.reporting.report import render_view_html, render_view_text
from movierec.stats.interleaving import PreferenceStats

EXPERIMENT = Experiment("il", "salt", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
                        design="interleaved")


def click(n: int, user: int, credit: str | None, *, request: str | None = None, movie: int | None = None,
          experiment: str = "il", kind: str = "click") -> dict:
    return Feedback(event_id=f"e{n}", ts=1_700_000_000.0 + n, request_id=request or f"r{n}", user_id=user,
                    movie_id=movie or n, type=kind, value=4.0 if kind == "rating" else None, position=1,
                    experiment_id=experiment, variant="interleaved", credit=credit,
                    credit_version=None if credit is None else "v1").to_dict()


def test_preferences_are_summed_per_user_by_hand(warehouse) -> None:
    rows = [
        click(1, 1, "B"), click(2, 1, "B"), click(3, 1, "A"),
        click(4, 1, "B", request="r1", movie=1),  # the same (request, movie) click stored twice
        click(5, 2, "A"),
        click(6, 3, "B"),
        click(7, 4, "A"), click(8, 4, "B"),  # preference 0: counted, not decided
        click(9, 5, None),  # a list served without credit (a ranker could not load)
        click(10, 6, "B", experiment="other"),
        click(11, 7, "B", kind="rating"),
    ]
    warehouse.insert_new("feedback", rows)
    warehouse.upsert("experiments", [EXPERIMENT.to_dict()])
    # users 1..4: preferences +1, -1, +1, 0
    assert load_preferences(warehouse, EXPERIMENT) == PreferenceStats(4, 1.0, 3.0, 2, 1)
    view = interleaving_view(analyse_interleaving(warehouse, EXPERIMENT))
    assert view.verdict == "keep_running"
    assert view.verdict_text.startswith("no preference shown yet: 66.7% of 3 decided users prefer B")
    text = render_view_text(view)
    assert "sign test (robustness): 66.7% of 3 decided users prefer B" in text
    assert "does not measure absolute CTR" in text
    assert 'id="verdict">no preference shown yet' in render_view_html(view)


def test_no_credited_click_yet_is_a_verdict_not_an_error(warehouse) -> None:
    view = interleaving_view(analyse_interleaving(warehouse, EXPERIMENT))
    assert view.verdict == "no_data" and "NO_UNITS" in view.verdict_text
