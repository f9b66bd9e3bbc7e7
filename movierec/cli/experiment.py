"""`movierec experiment create|show|stop`."""

from __future__ import annotations

import argparse
import json
import time

from movierec.settings import Settings


def _stores(settings: Settings):
    from movierec.stores.factory import make_stores

    return make_stores(settings)


def create(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.experiments.config import create_experiment, describe, parse_variants

    stores = _stores(settings)
    experiment = create_experiment(
        stores.events,
        stores.artifacts,
        args.id,
        parse_variants(args.variants, args.weights),
        now=time.time(),
        coverage=args.coverage,
        salt=args.salt,
    )
    print("created " + describe(experiment))
    return 0


def show(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.experiments.config import describe, get_experiment

    experiment = get_experiment(_stores(settings).events, args.id)
    print(json.dumps(experiment.to_dict(), indent=2) if args.json else describe(experiment))
    return 0


def stop(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.experiments.config import describe, stop_experiment

    print("stopped " + describe(stop_experiment(_stores(settings).events, args.id, now=time.time())))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("experiment", help="manage the A/B experiment").add_subparsers(
        dest="experiment_command", required=True
    )
    p = group.add_parser("create", help="start an experiment (one runs at a time)")
    p.add_argument("--id", required=True)
    p.add_argument("--variants", default="A=svd,B=ease", help="NAME=MODEL[@VERSION],...; the first is control")
    p.add_argument("--weights", default=None, help="e.g. 50,50 (default: equal)")
    p.add_argument("--coverage", type=float, default=1.0, help="share of users in the experiment")
    p.add_argument("--salt", default=None, help="hash salt (default: id + random suffix)")
    p.set_defaults(func=create)
    p = group.add_parser("show", help="show an experiment (default: the running one)")
    p.add_argument("id", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)
    p = group.add_parser("stop", help="stop an experiment: everyone gets the default model")
    p.add_argument("id")
    p.set_defaults(func=stop)
