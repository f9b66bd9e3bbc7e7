"""The catalogue a person reads on the demo page, checked against the ratings it came from."""

from __future__ import annotations

import pytest

from movierec.models.catalogue import Catalogue, fold, year_of
from movierec.models.popular import MostPopular
from movierec.models.scoring import scorer_for


@pytest.fixture(scope="module")
def catalogue(small_data, ml100k) -> Catalogue:
    artifact = MostPopular().fit(small_data)
    movies = ml100k.movies
    return Catalogue(scorer_for(artifact.kind, artifact.arrays),
                     dict(zip(movies["item_id"], movies["title"])), dict(zip(movies["item_id"], movies["genres"])))


def test_a_movie_has_its_year_genres_and_mean_rating_from_the_training_data(catalogue, small_data):
    movie = catalogue.movie(50)
    ratings = small_data.ratings.loc[small_data.ratings["item_id"] == 50, "rating"]
    assert movie.title == "Star Wars (1977)" and movie.year == 1977
    assert set(movie.genres) == {"Action", "Adventure", "Romance", "Sci-Fi", "War"}
    assert movie.ratings == len(ratings)
    assert movie.mean_rating == round(ratings.mean(), 2)
    assert catalogue.movie(10_000_000) is None


def test_search_is_case_and_accent_insensitive_most_rated_first_and_bounded(catalogue):
    found = catalogue.search("GODFATHER", 10)
    assert [m.title for m in found][:2] == ["Godfather, The (1972)", "Godfather: Part II, The (1974)"]
    assert [m.ratings for m in found] == sorted((m.ratings for m in found), reverse=True)
    assert len(catalogue.search("the", 5)) == 5
    assert catalogue.search("no such title anywhere", 5) == []
    assert fold("Amélie") == fold("AMELIE") == "amelie"


def test_a_users_ratings_are_theirs_most_recent_first(catalogue, small_data):
    mine = small_data.ratings[small_data.ratings["user_id"] == 13]
    shown = catalogue.user_ratings(13, 10)
    assert len(shown) == 10
    times = [r.ts for r in shown]
    assert times == sorted(times, reverse=True) and times[0] == mine["timestamp"].max()
    by_item = mine.set_index("item_id")["rating"]
    assert all(r.rating == by_item[r.movie_id] for r in shown)
    assert catalogue.user_ratings(10_000_000, 10) is None


def test_years_come_from_the_end_of_a_title():
    assert year_of("Toy Story (1995)") == 1995
    assert year_of("1984 (1984)") == 1984
    assert year_of("Untitled") is None
