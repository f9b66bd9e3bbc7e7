"""Models by name, as the CLI, the protocols and the training job refer to them."""

from __future__ import annotations

from collections.abc import Callable

from movierec.errors import ConfigError
from movierec.models.base import Trainer
from movierec.models.knn import SurpriseKNNBaseline, SurpriseKNNBasic
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD
from movierec.selection.tuned import TunedEASE, TunedSVD

# Variant A of the experiment is the baseline, variant B the new model.
BASELINE = "svd"
CHALLENGER = "ease"

_FACTORIES: dict[str, Callable[[int, int], Trainer]] = {
    "svd": lambda seed, trials: SurpriseSVD(seed=seed),
    "svd-tuned": lambda seed, trials: TunedSVD(n_trials=trials, seed=seed),
    "knn-basic": lambda seed, trials: SurpriseKNNBasic(seed=seed),
    "knn-baseline": lambda seed, trials: SurpriseKNNBaseline(seed=seed),
    "ease": lambda seed, trials: TunedEASE(seed=seed),
    "popular": lambda seed, trials: MostPopular(),
}

MODEL_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def make_trainer(name: str, *, seed: int = 42, tuning_trials: int = 20) -> Trainer:
    """A new trainer of model ``name``; ``tuning_trials`` is the search budget of tuned models."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}") from None
    return factory(seed, tuning_trials)


def parse_model_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--models needs at least one model name")
    for name in names:
        make_trainer(name)  # validates the name
    return names
