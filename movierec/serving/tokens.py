"""Feedback tokens: an HMAC over what was shown to whom, and until when.

``/recommend`` returns ``token = <expires_at>.<HMAC-SHA256(secret, request_id | user_id |
movie ids | expires_at)>``, ``expires_at`` in whole Unix seconds. ``/feedback`` recomputes
it from the stored impression, so a client can only report clicks and ratings for its own
request, for movies that request actually showed, and only until the token expires; the
expiry is signed, so a client cannot extend it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Literal

# The token's shape, documented in functions/openapi.yaml; anything else is refused as
# invalid input before any signature is computed.
TOKEN_PATTERN = r"^[0-9]{1,12}\.[0-9a-f]{64}$"
_TOKEN = re.compile(TOKEN_PATTERN.removeprefix("^").removesuffix("$"))

TokenCheck = Literal["valid", "forged", "expired"]


def check_token_format(token: str) -> str:
    """``token`` when it has the token's shape, else ValueError (the edge's 400)."""
    if _TOKEN.fullmatch(token) is None:
        raise ValueError("token must be <expires_at>.<64 hex digits>, as /recommend returned it")
    return token


def _message(request_id: str, user_id: int, movie_ids: Sequence[int], expires_at: int) -> bytes:
    return f"{request_id}|{user_id}|{','.join(str(int(m)) for m in movie_ids)}|{expires_at}".encode()


def sign_token(secret: str, request_id: str, user_id: int, movie_ids: Sequence[int], expires_at: int) -> str:
    digest = hmac.new(secret.encode(), _message(request_id, user_id, movie_ids, expires_at), hashlib.sha256)
    return f"{expires_at}.{digest.hexdigest()}"


def check_token(
    secret: str, token: str, request_id: str, user_id: int, movie_ids: Sequence[int], *, now: float
) -> TokenCheck:
    """``valid``; ``forged`` when the signature does not match; ``expired`` when it does, too late."""
    if _TOKEN.fullmatch(token) is None:
        return "forged"
    expires_at = int(token.partition(".")[0])
    expected = sign_token(secret, request_id, user_id, movie_ids, expires_at)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        return "forged"
    return "valid" if now < expires_at else "expired"
