"""Serving's settings: the rating scale comes from the dataset registry, nowhere else."""

from __future__ import annotations

import pytest

from movierec.data.registry import DATASETS, rating_scale_of
from movierec.errors import ConfigError, DataError
from movierec.serving.app import build_app
from movierec.settings import Settings
from tests.serving.test_handlers import click, recommend


def test_every_dataset_has_its_scale_and_an_unknown_one_has_none():
    assert {name: rating_scale_of(name) for name in DATASETS} == {
        "ml-100k": (1.0, 5.0),
        "ml-latest-small": (0.5, 5.0),
    }
    with pytest.raises(DataError, match="known datasets: ml-100k, ml-latest-small"):
        rating_scale_of("ml-1b")


def test_an_unknown_dataset_stops_start_up_instead_of_guessing_a_scale(local_env, home):
    with pytest.raises(ConfigError, match=r"MOVIEREC_DATASET: unknown MovieLens dataset 'ml-1b'"):
        build_app(Settings.from_env({**local_env, "MOVIEREC_DATASET": "ml-1b"}))
    assert not (home / "events.sqlite").exists()  # refused before any backend was touched


@pytest.mark.parametrize("dataset, half_star_status", [("ml-100k", 400), ("ml-latest-small", 201)])
def test_a_rating_is_checked_against_the_configured_datasets_scale(make_client, local_env, dataset, half_star_status):
    client = make_client({**local_env, "MOVIEREC_DATASET": dataset})
    response = click(client, recommend(client), type="rating", value=0.5)
    assert response.status_code == half_star_status, response.get_json()
    if half_star_status == 400:
        assert response.get_json()["error"]["message"] == "a rating needs a value in [1, 5]"
