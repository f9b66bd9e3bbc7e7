"""`movierec simulate`: simulated MovieLens users drive real HTTP traffic at the functions."""

from __future__ import annotations

import argparse

from movierec.cli.common import add_data_options, prepare
from movierec.settings import Settings


def simulate(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.pipelines.train import hold_out
    from movierec.simulation.traffic import ClickModel, SimulationConfig, simulate, simulated_users

    trained, held_out = hold_out(prepare(args, settings), args.seed)
    truth: dict[int, dict[int, float]] = {}
    for user, item, rating in held_out[["user_id", "item_id", "rating"]].itertuples(index=False):
        truth.setdefault(int(user), {})[int(item)] = float(rating)
    config = SimulationConfig(
        users=args.users, days=args.days, sessions_per_day=args.rate, seed=args.sim_seed, concurrency=args.concurrency
    )
    if args.history:
        from contextlib import closing

        import numpy as np

        from movierec.simulation.history import record_history
        from movierec.stores.factory import make_warehouse

        users = simulated_users(np.array(sorted(truth)), config)
        with closing(make_warehouse(settings)) as warehouse:
            loaded = record_history(warehouse, trained.training.ratings, users)
            print(f"rating history of the {len(users)} simulated users: {loaded} new rows in "
                  f"{warehouse.describe()} (the CUPED covariate)")
    summary = simulate(args.url.rstrip("/"), truth, config, ClickModel(position_decay=args.position_decay))
    print("\n".join(summary.lines()))
    return 0 if summary.sessions and not summary.errors else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulated users click by their held-out MovieLens ratings")
    add_data_options(p)
    p.add_argument("--url", default="http://127.0.0.1:8080", help="where `movierec serve` listens")
    p.add_argument("--users", type=int, default=300)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--rate", type=float, default=1.0, help="sessions per user per day (Poisson)")
    p.add_argument("--sim-seed", type=int, default=7, help="seed of the simulated behaviour")
    p.add_argument("--position-decay", type=float, default=0.7, help="examination probability rank^-decay")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--no-history", dest="history", action="store_false",
                   help="do not load the simulated users' training ratings into the warehouse's "
                   "rating_history (their pre-exposure covariate for CUPED)")
    p.set_defaults(func=simulate)
