"""The interleaved experiment's read-out as a :class:`~movierec.reporting.view.ReadoutView`.

The same view the A/B read-out fills, so `movierec report` (text, JSON), the HTML report
and the demo page's live panel show it with their usual renderers: a plain verdict
("B preferred by users: ..."), the tests behind it as reasons, and what interleaving
does not measure as a note.
"""

from __future__ import annotations

from movierec.analysis.interleaving import InterleavingReadout
from movierec.reporting.view import ReadoutView, interval, num, p_text

NOT_MEASURED = ("interleaving measures which ranker's items users click more when both are shown "
                "together; it does not measure absolute CTR, a lift in clicks, or how often users come "
                "back, so a winning ranker still goes to an A/B test")


def interleaving_view(readout: InterleavingReadout) -> ReadoutView:
    experiment, result = readout.experiment, readout.result
    a, b = readout.first, readout.second
    models = {v.name: f"{v.model}@{v.version or 'live'}" for v in experiment.variants}
    ci = interval(result.always_valid_ci, "+.3f")
    decided = f"{result.decided:,} decided users"
    if result.error is not None:
        verdict, text = "no_data", (f"no preference can be computed yet ({result.error.value}): "
                                    f"{result.n_users} users with a credited click")
    elif result.winner is not None:
        winner = result.winner
        share = result.share_b if winner == "B" else 1 - result.share_b
        name = b if winner == "B" else a
        verdict = "wins" if winner == "B" else "loses"
        text = (f"{name} preferred by users: {share:.1%} of {decided}, "
                f"always-valid CI of the mean preference for {b} {ci} clicks per user")
    else:
        verdict, text = "keep_running", (f"no preference shown yet: {result.share_b:.1%} of {decided} "
                                         f"prefer {b}, always-valid CI {ci} includes 0")
    reasons = () if result.error is not None else (
        f"mean preference for {b} (clicks credited to {b} minus to {a}, per user): "
        f"{num(result.mean, '+.3f')} over {result.n_users:,} users with a credited click",
        f"fixed-horizon t test: {level(result.alpha)} CI {interval(result.ci, '+.3f')}, p {p_text(result.p_value)}; "
        f"always-valid p {p_text(result.always_valid_p_value)}",
        f"sign test (robustness): {result.share_b:.1%} of {decided} prefer {b}, p {p_text(result.sign_test_p_value)}",
    )
    return ReadoutView(
        experiment_id=experiment.experiment_id,
        status=experiment.status,
        control=a,
        summary=f"interleaved design, {a} = {models[a]} vs {b} = {models[b]} (team draft, users the unit)",
        settings=f"alpha {result.alpha:g}; the verdict uses the always-valid test, safe to read every day",
        verdict=verdict,
        verdict_text=text,
        reasons=reasons,
        variant_header=(),
        variants=(),
        comparison_header=(),
        comparisons=(),
        checks=(),
        notes=(NOT_MEASURED,),
    )


def level(alpha: float) -> str:
    return f"{1 - alpha:.0%}"
