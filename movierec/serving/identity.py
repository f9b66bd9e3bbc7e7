"""Who is asking: ``Authorization: Bearer <Firebase ID token>`` -> uid -> recommender user id.

With ``MOVIEREC_AUTH=firebase`` the functions do not take ``user_id`` on trust:
:meth:`Authenticator.user_of` reads the bearer token, an :class:`IdentityVerifier` says
which Firebase account (uid) it proves, and the :class:`~movierec.stores.ports.UserDirectory`
says which recommender user that account is (``users/{uid}``). The request's ``user_id``
may then be left out (it defaults to the signed-in user) and, when given, must be that
user (:func:`check_signed_in`).

Refusals: no token, a malformed header or a token that proves nothing -> Unauthenticated
(401, ``WWW-Authenticate: Bearer``); a signed-in account linked to no user, or a
``user_id`` that is not the signed-in user -> Forbidden (403); the directory or Firebase
unreachable -> Unavailable (503). No framework and no firebase-admin here: the verifier
(:mod:`movierec.serving.firebase_auth`) and the directory (:mod:`movierec.stores`) are
given, so this module imports no I/O (a contract in pyproject.toml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from movierec.errors import BackendUnavailable
from movierec.serving.outcomes import Forbidden, Unauthenticated, Unavailable
from movierec.stores.deadline import within
from movierec.stores.ports import UserDirectory

# RFC 6750's credentials: the scheme, case-insensitive, one space, a token68.
_BEARER = re.compile(r"bearer (?P<token>[A-Za-z0-9._~+/-]+=*)", re.IGNORECASE)


class IdentityVerifier(Protocol):
    def verify(self, id_token: str) -> str:
        """The uid ``id_token`` proves. Unauthenticated when it proves nothing (malformed,
        expired, revoked, another project's, a bad signature); Unavailable when no verdict
        can be had now (the keys or the account lookup unreachable)."""


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; Unauthenticated otherwise."""
    if not authorization:
        raise Unauthenticated("sign in first: send Authorization: Bearer <Firebase ID token>")
    match = _BEARER.fullmatch(authorization.strip())
    if match is None:
        raise Unauthenticated("the Authorization header must be 'Bearer <Firebase ID token>'")
    return match["token"]


def as_signed_in(values: dict[str, Any], signed_in: int | None) -> dict[str, Any]:
    """A request's values with ``user_id`` defaulting to the signed-in user (None: unchanged)."""
    return values if signed_in is None else {"user_id": signed_in, **values}


def check_signed_in(user_id: int, signed_in: int | None) -> None:
    """Forbidden when a request names a user other than the signed-in one (None: no sign-in)."""
    if signed_in is not None and user_id != signed_in:
        raise Forbidden(f"user_id {user_id} is not the signed-in user")


@dataclass(frozen=True)
class Authenticator:
    """The signed-in recommender user of a request, from its Authorization header."""

    verifier: IdentityVerifier
    users: UserDirectory
    deadline_seconds: float = 1.0  # the directory lookup's budget (MOVIEREC_REQUEST_DEADLINE_SECONDS)

    def user_of(self, authorization: str | None) -> int:
        uid = self.verifier.verify(bearer_token(authorization))
        try:
            with within(self.deadline_seconds):
                user_id = self.users.user_id_of(uid)
        except BackendUnavailable:
            raise Unavailable("the signed-in account's user cannot be looked up") from None
        if user_id is None:
            # The caller's own uid, so that they can ask to be linked; no one else's data.
            raise Forbidden(
                f"the signed-in account {uid} is not linked to a recommender user; "
                f"an administrator links it with `movierec users link --uid {uid} --user-id <id>`"
            )
        return user_id
