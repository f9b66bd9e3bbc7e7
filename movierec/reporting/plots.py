"""The HTML report's plots: inline SVG drawn by matplotlib's object API.

No pyplot global state and no display; text stays text in the SVG (searchable) and ids
are stable across runs, so a report renders byte-for-byte the same twice.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from markupsafe import Markup
from matplotlib.figure import Figure

from movierec.analysis.roles import label
from movierec.analysis.timeline import TimelinePoint


def _svg(figure: Figure) -> Markup:
    buffer = io.StringIO()
    # Text stays text (searchable, selectable) and ids are stable across runs.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "movierec"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    return Markup(svg[svg.index("<svg"):])  # drop the XML prolog and DOCTYPE


def _days(points: Sequence[TimelinePoint]) -> list[date]:
    return [date.fromisoformat(p.day) for p in points]


def _band(
    ax: Any,
    days: list[date],
    values: list[float | None],
    cis: list[tuple[float, float] | None],
    name: str,
    scale: Callable[[float], float] = float,
    unit: str = "",
) -> None:
    keep = [i for i, v in enumerate(values) if v is not None]
    if not keep:
        return
    x = [days[i] for i in keep]
    (line,) = ax.plot(x, [scale(values[i]) for i in keep], marker="o", label=name)  # type: ignore[arg-type]
    banded = [i for i in keep if cis[i] is not None]
    if len(keep) == 1:  # one day of data: no line to read, so the point says its value and interval
        i = keep[0]
        mid = scale(values[i])  # type: ignore[arg-type]
        text = f"{name}: {mid:.3g}{unit}"
        if cis[i] is not None:
            low, high = scale(cis[i][0]), scale(cis[i][1])  # type: ignore[index]
            ax.errorbar([days[i]], [mid], yerr=[[mid - low], [high - mid]], color=line.get_color(), capsize=6)
            text += f" [{low:.3g}{unit}, {high:.3g}{unit}]"
        ax.annotate(text, (days[i], mid), xytext=(10, 0), textcoords="offset points", va="center",
                    color=line.get_color(), fontsize=9)
    elif len(banded) == 1:  # a band needs two days: the one interval is drawn as a bar
        i = banded[0]
        low, high = scale(cis[i][0]), scale(cis[i][1])  # type: ignore[index]
        mid = scale(values[i])  # type: ignore[arg-type]
        ax.errorbar([days[i]], [mid], yerr=[[mid - low], [high - mid]], color=line.get_color(), capsize=6)
    elif banded:
        ax.fill_between(
            [days[i] for i in banded],
            [scale(cis[i][0]) for i in banded],  # type: ignore[index]
            [scale(cis[i][1]) for i in banded],  # type: ignore[index]
            color=line.get_color(),
            alpha=0.2,
            linewidth=0,
        )


def _day_axis(ax: Any, days: list[date]) -> None:
    """Whole days on the x axis, with a day of margin so one or two days don't stretch it."""
    if days:
        ax.set_xlim(min(days) - timedelta(days=1), max(days) + timedelta(days=1))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def ctr_plot(points: Sequence[TimelinePoint], variants: Sequence[str], metric: str, level: str) -> Markup:
    figure = Figure(figsize=(6, 3.2))
    ax = figure.subplots()
    days = _days(points)
    for name in variants:
        _band(ax, days, [p.values.get(name) for p in points], [p.cis.get(name) for p in points], name)
    ax.set_title(f"cumulative {label(metric)} per variant (shaded: {level} CI)")
    ax.set_ylabel(label(metric))
    ax.set_ylim(bottom=0)  # a rate: the axis starts where the range does
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    _day_axis(ax, days)
    figure.autofmt_xdate()
    return _svg(figure)


def lift_plot(points: Sequence[TimelinePoint], treatments: Sequence[str], control: str, level: str) -> Markup:
    figure = Figure(figsize=(6, 3.2))
    ax = figure.subplots()
    days = _days(points)
    for name in treatments:
        _band(
            ax,
            days,
            [p.lifts.get(name) for p in points],
            [p.seq_cis.get(name) for p in points],
            f"{name} vs {control}",
            scale=lambda v: 100.0 * max(v, -1.0),  # a rate's lift is at least -100%
            unit="%",
        )
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_title(f"relative lift over time (shaded: always-valid {level} CI, the verdict's)")
    ax.set_ylabel("lift (%)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    _day_axis(ax, days)
    figure.autofmt_xdate()
    return _svg(figure)
