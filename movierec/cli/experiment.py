"""`movierec experiment create|show|stop`."""

from __future__ import annotations

import argparse
import json
import time

from movierec.errors import ConfigError
from movierec.settings import Settings


def _stores(settings: Settings):
    from movierec.stores.factory import make_stores

    return make_stores(settings)


def create(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.analysis.plan import make_plan
    from movierec.analysis.roles import resolve_roles
    from movierec.events import Experiment
    from movierec.experiments.config import (
        create_experiment,
        describe,
        parse_guardrail,
        parse_guardrail_baseline,
        parse_variants,
    )

    variants = parse_variants(args.variants, args.weights)
    guardrails = tuple(parse_guardrail(g) for g in args.guardrail)
    secondary = tuple(m.strip() for spec in args.secondary for m in spec.split(",") if m.strip())
    plan = make_plan(
        args.primary, len(variants), mde=args.mde, alpha=args.alpha, power=args.power,
        baseline=args.baseline, baseline_variance=args.baseline_variance,
        guardrails=guardrails, guardrail_baselines=dict(parse_guardrail_baseline(b) for b in args.guardrail_baseline),
    )
    # Unknown metric names fail here, before anything is stored.
    resolve_roles(Experiment(args.id, "check", variants, primary_metric=args.primary,
                             guardrails=guardrails, secondary_metrics=secondary, plan=plan))
    stores = _stores(settings)
    experiment = create_experiment(
        stores.events,
        stores.artifacts,
        args.id,
        variants,
        now=time.time(),
        coverage=args.coverage,
        salt=args.salt,
        primary_metric=args.primary,
        guardrails=guardrails,
        secondary_metrics=secondary,
        plan=plan,
        design=args.design,
    )
    print("created " + describe(experiment))
    if plan.users_per_variant is None:
        print("note: no --baseline, so the plan has no sample size and the always-valid test is "
              "tuned for the default; give --baseline (the primary metric's control mean) to plan")
    return 0


def show(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.experiments.config import describe, get_experiment

    experiment = get_experiment(_stores(settings).events, args.id)
    print(json.dumps(experiment.to_dict(), indent=2) if args.json else describe(experiment))
    return 0


def stop(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.experiments.config import describe, stop_experiment

    events = _stores(settings).events
    if args.running:  # a script's "whatever runs now, if anything" (scripts/demo.sh)
        running = [e for e in events.list_experiments() if e.status == "running"]
        if not running:
            print("no experiment is running: nothing to stop")
        for experiment in running:
            print("stopped " + describe(stop_experiment(events, experiment.experiment_id, now=time.time())))
        return 0
    if args.id is None:
        raise ConfigError("name the experiment to stop, or give --running")
    print("stopped " + describe(stop_experiment(events, args.id, now=time.time())))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("experiment", help="manage the A/B experiment").add_subparsers(
        dest="experiment_command", required=True
    )
    p = group.add_parser("create", help="start an experiment (one runs at a time)")
    p.add_argument("--id", required=True)
    p.add_argument("--variants", default="A=svd,B=ease", help="NAME=MODEL[@VERSION],...; the first is control")
    p.add_argument("--weights", default=None, help="e.g. 50,50 (default: equal)")
    p.add_argument("--design", choices=("ab", "interleaved"), default="ab",
                   help="ab (default): each user sees one variant; interleaved: each user sees both "
                        "variants' lists merged by team draft (exactly two variants)")
    p.add_argument("--coverage", type=float, default=1.0, help="share of users in the experiment")
    p.add_argument("--salt", default=None, help="hash salt (default: id + random suffix)")
    p.add_argument("--primary", default="ctr", help="the one metric the decision is made on (default ctr)")
    p.add_argument(
        "--guardrail", action="append", default=[], metavar="METRIC[:MARGIN]",
        help="a metric that must not be worse than control by more than MARGIN (relative, e.g. "
        "rating:0.01 or rating:1%%; default margins: 2%% for CTRs and clicks per user, 1%% for the "
        "mean rating); repeatable",
    )
    p.add_argument(
        "--guardrail-baseline", action="append", default=[], metavar="METRIC=MEAN[:VARIANCE]",
        help="a guardrail's control mean (and per-user variance; default for CTRs b(1-b), clicks per "
        "user b, none for the mean rating): the plan then records the users per variant at which "
        "the guardrail is shown within its margin with the planned power; repeatable",
    )
    p.add_argument("--secondary", action="append", default=[], metavar="METRIC",
                   help="an exploratory metric (shown, never decides); repeatable or comma-separated")
    p.add_argument("--mde", type=float, default=0.05, help="relative lift of the primary metric to detect (default 0.05)")
    p.add_argument("--baseline", type=float, default=None,
                   help="the primary metric's control mean, e.g. 0.25 for a 25%% list CTR; with it the "
                   "plan records the users per variant, which also tune the always-valid test")
    p.add_argument("--baseline-variance", type=float, default=None,
                   help="per-user variance of the primary metric (default for CTRs b(1-b), clicks per user b)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--power", type=float, default=0.8, help="power at the MDE (default 0.8)")
    p.set_defaults(func=create)
    p = group.add_parser("show", help="show an experiment (default: the running one)")
    p.add_argument("id", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)
    p = group.add_parser("stop", help="stop an experiment: everyone gets the default model")
    p.add_argument("id", nargs="?")
    p.add_argument("--running", action="store_true", help="stop the running experiment, if any (exit 0 when none)")
    p.set_defaults(func=stop)
