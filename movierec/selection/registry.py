"""Models by name, as the CLI, the protocols and the training job refer to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from movierec.errors import ConfigError
from movierec.models.base import Trainer
from movierec.models.knn import SurpriseKNNBaseline, SurpriseKNNBasic
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD
from movierec.selection.tuned import TunedEASE, TunedIALS, TunedSVD

# Variant A of the experiment is the baseline, variant B the new model.
BASELINE = "svd"
CHALLENGER = "ease"

Factory = Callable[[int, int, str], Trainer]  # (seed, tuning trials, objective) -> trainer


@dataclass(frozen=True)
class ModelOption:
    factory: Factory
    description: str


_OPTIONS: dict[str, ModelOption] = {
    "svd": ModelOption(
        lambda seed, trials, objective: SurpriseSVD(seed=seed),
        "A: Surprise SVD, biased MF by SGD (100 factors, 20 epochs)",
    ),
    "svd-tuned": ModelOption(
        lambda seed, trials, objective: TunedSVD(n_trials=trials, seed=seed, objective=objective),
        "SVD tuned by Optuna on a validation split for the protocol's objective (RMSE or NDCG@10); --trials",
    ),
    "knn-basic": ModelOption(
        lambda seed, trials, objective: SurpriseKNNBasic(seed=seed), "Surprise user-based KNNBasic (MSD)"
    ),
    "knn-baseline": ModelOption(
        lambda seed, trials, objective: SurpriseKNNBaseline(seed=seed), "Surprise user-based KNNBaseline (MSD)"
    ),
    "ease": ModelOption(
        lambda seed, trials, objective: TunedEASE(seed=seed),
        "B: EASE^R, λ on validation; dense up to 4,000 items, pruned sparse B beyond",
    ),
    "ease-sparse": ModelOption(
        lambda seed, trials, objective: TunedEASE(seed=seed, sparse=True),
        "EASE^R always pruned to the strongest weights per item (level chosen on validation)",
    ),
    "ials": ModelOption(
        lambda seed, trials, objective: TunedIALS(seed=seed),
        "iALS through the implicit library (64 factors); regularisation and confidence on validation",
    ),
    "popular": ModelOption(lambda seed, trials, objective: MostPopular(), "most-rated first; the fallback"),
}

MODEL_NAMES: tuple[str, ...] = tuple(_OPTIONS)
OBJECTIVES: tuple[str, ...] = ("rmse", "ndcg@10")


def describe_models() -> str:
    """One line per model option: its name and what it is."""
    width = max(map(len, MODEL_NAMES))
    return "\n".join(f"{name.ljust(width)}  {option.description}" for name, option in _OPTIONS.items())


def objective_of(protocol: str) -> str:
    """What a protocol measures first: RMSE for rating prediction (kfold5), NDCG@10 for ranking."""
    return "rmse" if protocol == "kfold5" else "ndcg@10"


def make_trainer(name: str, *, seed: int = 42, tuning_trials: int = 20, objective: str = "rmse") -> Trainer:
    """A new trainer of model ``name``; ``tuning_trials`` and ``objective`` steer tuned models."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown tuning objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    try:
        option = _OPTIONS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}") from None
    return option.factory(seed, tuning_trials, objective)


def parse_model_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--models needs at least one model name")
    for name in names:
        make_trainer(name)  # validates the name
    return names
