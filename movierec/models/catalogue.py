"""The movies an artifact knows and what its training data says of them, for people to read.

Built from a scorer's arrays and the artifact's ``items.json`` (titles, genres): per
movie its year (the ``(1995)`` MovieLens puts at the end of a title), its number of
ratings and, when the artifact stores ratings (``seen_ratings``), its mean rating; per
user the ratings they gave, most recent first. Title search is a case- and
accent-insensitive substring match, most-rated first. No I/O: values in, values out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from movierec.models.scoring import Scorer

_YEAR = re.compile(r"\((\d{4})\)\s*$")


@dataclass(frozen=True)
class Movie:
    movie_id: int
    title: str
    genres: tuple[str, ...]
    year: int | None
    ratings: int  # ratings (interactions) in the training data
    mean_rating: float | None  # None without stored ratings, or with none for this movie

    def to_dict(self) -> dict[str, object]:
        return {
            "movie_id": self.movie_id,
            "title": self.title,
            "genres": list(self.genres),
            "year": self.year,
            "ratings": self.ratings,
            "mean_rating": self.mean_rating,
        }


@dataclass(frozen=True)
class UserRating:
    movie_id: int
    title: str
    rating: float | None
    ts: int | None  # epoch seconds; None when the artifact stores no times


def fold(text: str) -> str:
    """Lower case without accents: "Amélie" and "amelie" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def year_of(title: str) -> int | None:
    match = _YEAR.search(title)
    return int(match.group(1)) if match else None


class Catalogue:
    def __init__(self, scorer: Scorer, titles: Mapping[int, str], genres: Mapping[int, str]) -> None:
        self.scorer = scorer
        ids = [int(i) for i in scorer.item_ids]
        counts = scorer.item_popularity
        means: list[float | None] = [None] * len(ids)
        if scorer.seen_ratings is not None:
            sums = np.bincount(scorer.seen_indices, weights=scorer.seen_ratings, minlength=len(ids))
            means = [round(float(s / c), 2) if c else None for s, c in zip(sums, counts)]
        self.movies = [
            Movie(i, titles.get(i, ""), tuple(g for g in genres.get(i, "").split("|") if g),
                  year_of(titles.get(i, "")), int(c), m)
            for i, c, m in zip(ids, counts, means)
        ]
        self._folded = [fold(m.title) for m in self.movies]
        self._by_popularity = np.lexsort((np.arange(len(ids)), -counts))

    def movie(self, movie_id: int) -> Movie | None:
        position = int(self.scorer.item_index(movie_id)[0])
        return self.movies[position] if position >= 0 else None

    def search(self, query: str, limit: int) -> list[Movie]:
        """At most ``limit`` movies whose title holds ``query``, most-rated first."""
        needle = fold(query.strip())
        found: list[Movie] = []
        for position in self._by_popularity:
            if needle in self._folded[position]:
                found.append(self.movies[position])
                if len(found) == limit:
                    break
        return found

    def user_ratings(self, user_id: int, limit: int) -> list[UserRating] | None:
        """The user's training ratings, most recent first (None: a user the model does not know)."""
        user = self.scorer.user_row(user_id)
        if user < 0:
            return None
        lo, hi = self.scorer.seen_indptr[user], self.scorer.seen_indptr[user + 1]
        seen = self.scorer.seen_indices[lo:hi]
        ratings = self.scorer.seen_ratings[lo:hi] if self.scorer.seen_ratings is not None else None
        times = self.scorer.seen_times[lo:hi] if self.scorer.seen_times is not None else None
        # Widened before negating: times are stored unsigned.
        order = np.argsort(-times.astype(np.int64), kind="stable") if times is not None else np.arange(len(seen))
        return [
            UserRating(
                self.movies[seen[j]].movie_id,
                self.movies[seen[j]].title,
                None if ratings is None else float(ratings[j]),
                None if times is None else int(times[j]),
            )
            for j in order[:limit]
        ]
