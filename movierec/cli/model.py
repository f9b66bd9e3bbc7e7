"""`movierec model list|promote|rollback`: the versions of a model family and its live pointer."""

from __future__ import annotations

import argparse
import json

from movierec.settings import Settings


def _store(settings: Settings):
    from movierec.stores.factory import make_stores

    return make_stores(settings).artifacts


def list_models(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.errors import ArtifactError
    from movierec.pipelines.publish import describe_versions, model_names

    store = _store(settings)
    names = [args.name] if args.name else model_names(store)
    if not names:
        raise ArtifactError(f"no models in {store.describe()}; run `movierec train` first")
    rows = [info for name in names for info in describe_versions(store, name)]
    if args.json:
        print(json.dumps([info.__dict__ for info in rows], indent=2, sort_keys=True))
        return 0
    header = ("model", "version", "state", "created_at", "ndcg@10", "rmse")
    table = [
        (
            r.name,
            r.version,
            "LIVE" if r.live else ("previous" if r.previous else ""),
            r.created_at[:19],
            _metric(r.metrics, "ndcg@10"),
            _metric(r.metrics, "rmse"),
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *table)]
    for line in (header, *table):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
    return 0


def _metric(metrics: dict, name: str) -> str:
    for key in (f"temporal_{name}", f"ms75_{name}"):
        if key in metrics:
            return f"{metrics[key]:.4f}"
    return "-"


def promote_model(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.pipelines.publish import promote

    pointer = promote(_store(settings), args.name, args.version)
    print(f"{args.name}: {pointer.version} is live (previous: {pointer.previous or 'none'})")
    return 0


def rollback_model(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.pipelines.publish import rollback

    pointer = rollback(_store(settings), args.name, args.to)
    print(f"{args.name}: rolled back to {pointer.version} (previous: {pointer.previous or 'none'})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="list model versions, promote one, roll back")
    actions = p.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("list", help="versions of every model (or one), with the live one marked")
    ls.add_argument("name", nargs="?", help="model family, e.g. svd or ease")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_models)
    pr = actions.add_parser("promote", help="make a stored version live (checksums verified first)")
    pr.add_argument("name")
    pr.add_argument("version")
    pr.set_defaults(func=promote_model)
    rb = actions.add_parser("rollback", help="make the previous live version live again")
    rb.add_argument("name")
    rb.add_argument("--to", default=None, help="a specific version instead of the previous one")
    rb.set_defaults(func=rollback_model)
