r"""The rules that turn logged feedback into training ratings. Pure: frames in, frames out.

A feedback event (``movierec.events.Feedback``) is an explicit rating or a click on a
recommended movie. The weekly job keeps every signal it has derived so far (the
*signals* table: ``user_id, item_id, rating, timestamp, source``) and folds each new
window of feedback into it with these rules, in this order:

1. **Invalid events are dropped and counted**: an unknown ``type``, a non-positive
   user or movie id, a rating without a finite value or outside the dataset's rating
   scale (serving accepts 0.5..5, ml-100k's scale is 1..5), a movie that is not in the
   catalogue.
2. **A rating is taken as given**: ``rating = value`` at the event's time.
3. **A click is an implicit positive**, ``rating = SignalRules.click_rating`` (4.0 by
   default: "liked" on the MovieLens star scale, above ml-100k's mean of 3.53; for EASE,
   which binarises, it is simply a positive), but only on a movie the user has **not
   rated**, neither in the base data nor in any logged rating, before or after the
   click: an explicit judgement always outranks an implied one, so a click never
   overwrites a 1-star rating, and a later rating replaces an earlier click.
4. **One signal per (user, movie), the latest of the strongest kind**: explicit
   ratings beat clicks; among events of the same kind the latest timestamp wins (ties:
   the later event in input order). Repeated clicks collapse into one.

Timestamps become whole epoch seconds (floor), the dtype of the ratings table.
:func:`training_ratings` then stacks the base ratings and the signals, lets the
foundation's ``clean_ratings`` keep the latest rating of each pair (a logged rating is
newer than the MovieLens one it revises) and validates the result with the same pandera
schema as the foundation (``validate_ratings``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from movierec.data.cleaning import clean_ratings
from movierec.data.frames import ITEM_ID, RATING, TIMESTAMP, USER_ID
from movierec.data.validation import validate_ratings
from movierec.errors import ConfigError, DataError

SOURCE = "source"
EXPLICIT, CLICK = 0, 1  # values of the ``source`` column; larger = weaker evidence
SIGNAL_COLUMNS: tuple[str, ...] = (USER_ID, ITEM_ID, RATING, TIMESTAMP, SOURCE)
FEEDBACK_COLUMNS: tuple[str, ...] = ("event_id", "ts", "user_id", "movie_id", "type", "value")


@dataclass(frozen=True)
class SignalRules:
    """The tunable part of the rules above."""

    click_rating: float = 4.0

    def check(self, rating_scale: tuple[float, float]) -> None:
        low, high = rating_scale
        if not low <= self.click_rating <= high:
            raise ConfigError(
                f"click_rating {self.click_rating} is outside the rating scale [{low}, {high}]"
            )


@dataclass(frozen=True)
class SignalReport:
    """What one window of feedback contributed, rule by rule."""

    events: int
    ratings: int
    clicks: int
    invalid: int
    unknown_movie: int
    clicks_on_rated: int  # rule 3: ignored, the user rated that movie
    superseded: int  # rule 4: replaced by a stronger or later signal of the same pair
    signals: int  # size of the signals table after this window

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def empty_signals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            USER_ID: np.array([], dtype=np.int64),
            ITEM_ID: np.array([], dtype=np.int64),
            RATING: np.array([], dtype=np.float64),
            TIMESTAMP: np.array([], dtype=np.int64),
            SOURCE: np.array([], dtype=np.int8),
        }
    )


def empty_feedback() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FEEDBACK_COLUMNS})


def fold_feedback(
    previous: pd.DataFrame,
    feedback: pd.DataFrame,
    *,
    base: pd.DataFrame,
    known_items: np.ndarray,
    rating_scale: tuple[float, float],
    rules: SignalRules | None = None,
) -> tuple[pd.DataFrame, SignalReport]:
    """Fold one window of ``feedback`` (columns :data:`FEEDBACK_COLUMNS`) into the
    ``previous`` signals table; returns the new signals table and what changed."""
    rules = rules or SignalRules()
    rules.check(rating_scale)
    missing = [c for c in FEEDBACK_COLUMNS if c not in feedback.columns]
    if missing:
        raise DataError(f"feedback rows lack field(s) {', '.join(missing)}")
    low, high = rating_scale
    kind = feedback["type"].astype("string")
    users = pd.to_numeric(feedback["user_id"], errors="coerce")
    items = pd.to_numeric(feedback["movie_id"], errors="coerce")
    values = pd.to_numeric(feedback["value"], errors="coerce")
    ts = pd.to_numeric(feedback["ts"], errors="coerce")

    is_rating = (kind == "rating").fillna(False).to_numpy()
    is_click = (kind == "click").fillna(False).to_numpy()
    well_formed = (
        (is_rating | is_click)
        & (users > 0).fillna(False).to_numpy()
        & (items > 0).fillna(False).to_numpy()
        & np.isfinite(ts.to_numpy(dtype=np.float64, na_value=np.nan))
        & ~(is_rating & ~values.between(low, high).fillna(False).to_numpy())
    )
    in_catalogue = np.isin(items.fillna(-1).to_numpy(dtype=np.int64), known_items)
    keep = well_formed & in_catalogue

    new = pd.DataFrame(
        {
            USER_ID: users[keep].to_numpy(dtype=np.int64),
            ITEM_ID: items[keep].to_numpy(dtype=np.int64),
            RATING: np.where(is_rating[keep], values[keep].to_numpy(dtype=np.float64, na_value=np.nan), rules.click_rating),
            TIMESTAMP: np.floor(ts[keep].to_numpy(dtype=np.float64)).astype(np.int64),
            SOURCE: np.where(is_rating[keep], EXPLICIT, CLICK).astype(np.int8),
        }
    )
    # Rule 3: pairs with an explicit rating anywhere block clicks, whatever the order.
    rated = pd.concat(
        [
            base[[USER_ID, ITEM_ID]],
            previous.loc[previous[SOURCE] == EXPLICIT, [USER_ID, ITEM_ID]],
            new.loc[new[SOURCE] == EXPLICIT, [USER_ID, ITEM_ID]],
        ]
    )
    on_rated = (new[SOURCE] == CLICK).to_numpy() & _pairs(new).isin(_pairs(rated))
    new = new[~on_rated]

    # Rule 4: explicit (0) outranks click (1), then the latest wins, then input order.
    stacked = pd.concat([previous[list(SIGNAL_COLUMNS)], new], ignore_index=True)
    order = np.lexsort((np.arange(len(stacked)), stacked[TIMESTAMP].to_numpy(), -stacked[SOURCE].to_numpy()))
    ranked = stacked.iloc[order]
    latest = ranked[~ranked.duplicated([USER_ID, ITEM_ID], keep="last")]
    signals = latest.sort_values([USER_ID, ITEM_ID], kind="stable").reset_index(drop=True)
    signals = signals.astype({USER_ID: "int64", ITEM_ID: "int64", RATING: "float64", TIMESTAMP: "int64", SOURCE: "int8"})

    report = SignalReport(
        events=len(feedback),
        ratings=int(is_rating.sum()),
        clicks=int(is_click.sum()),
        invalid=int((~well_formed).sum()),
        unknown_movie=int((well_formed & ~in_catalogue).sum()),
        clicks_on_rated=int(on_rated.sum()),
        superseded=len(stacked) - len(signals),
        signals=len(signals),
    )
    return signals, report


def _pairs(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame[USER_ID].to_numpy(), frame[ITEM_ID].to_numpy()])


def training_ratings(
    base: pd.DataFrame, signals: pd.DataFrame, *, rating_scale: tuple[float, float], now: float
) -> pd.DataFrame:
    """Base ratings plus signals, one rating per pair (the latest), validated.

    Raises DataError (naming every failed check) when the result breaks the ratings schema.
    """
    stacked = pd.concat(
        [base[[USER_ID, ITEM_ID, RATING, TIMESTAMP]], signals[[USER_ID, ITEM_ID, RATING, TIMESTAMP]]],
        ignore_index=True,
    )
    ratings, _ = clean_ratings(stacked, rating_scale=rating_scale)
    return validate_ratings(ratings.reset_index(drop=True), rating_scale, now)
