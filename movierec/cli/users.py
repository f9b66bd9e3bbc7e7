"""`movierec users link|show|unlink`: which recommender user a Firebase account is.

With ``MOVIEREC_AUTH=firebase`` serving answers a signed-in account only once it is
linked: ``users/{uid}`` in Firestore (``MOVIEREC_BACKEND=gcp``), table ``users`` of the
SQLite event-log file locally. The uid is the account's Firebase uid (Firebase console,
``firebase auth:export``, or the demo page's sign-in line).
"""

from __future__ import annotations

import argparse
import sys

from movierec.errors import BackendUnavailable, ConfigError
from movierec.settings import Settings

EXIT_UNAVAILABLE = 3


def _directory(settings: Settings):
    from movierec.stores.factory import make_user_directory

    return make_user_directory(settings)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    users = _directory(settings)
    try:
        if args.action == "link":
            try:
                users.link(args.uid, args.user_id)
            except ValueError as exc:
                raise ConfigError(f"--uid: {exc}") from None
            print(f"linked {args.uid} -> user {args.user_id} ({users.describe()})")
        elif args.action == "show":
            user_id = users.user_id_of(args.uid)
            print(f"{args.uid} -> " + (f"user {user_id}" if user_id is not None else "not linked"))
            return 0 if user_id is not None else 1
        else:
            removed = users.unlink(args.uid)
            print(f"unlinked {args.uid}" if removed else f"{args.uid} was not linked")
    except BackendUnavailable as exc:
        print(f"movierec users: the user directory is unreachable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return 0


def _user_id(raw: str) -> int:
    from movierec.serving.http import MAX_ID  # the bound every request's user_id is held to

    value = int(raw)
    if not 0 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"a user id is an integer in [0, {MAX_ID}], got {raw!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="link Firebase accounts to recommender users (MOVIEREC_AUTH=firebase)")
    actions = p.add_subparsers(dest="action", required=True)
    link = actions.add_parser("link", help="link a Firebase uid to a recommender user id (replaces a link)")
    link.add_argument("--uid", required=True, help="the account's Firebase uid")
    link.add_argument("--user-id", required=True, type=_user_id, help="the recommender's user id")
    for name, text in (("show", "print the user a uid is linked to (exit 1: none)"), ("unlink", "remove a link")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--uid", required=True, help="the account's Firebase uid")
    p.set_defaults(func=_run)
