"""Feedback tokens: an HMAC over what was shown to whom.

``/recommend`` returns ``token = HMAC-SHA256(secret, request_id | user_id | movie ids)``.
``/feedback`` recomputes it from the stored impression, so a client can only report
clicks and ratings for its own request and for movies that request actually showed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def _message(request_id: str, user_id: int, movie_ids: Sequence[int]) -> bytes:
    return f"{request_id}|{user_id}|{','.join(str(int(m)) for m in movie_ids)}".encode()


def sign_token(secret: str, request_id: str, user_id: int, movie_ids: Sequence[int]) -> str:
    return hmac.new(secret.encode(), _message(request_id, user_id, movie_ids), hashlib.sha256).hexdigest()


def verify_token(secret: str, token: str, request_id: str, user_id: int, movie_ids: Sequence[int]) -> bool:
    expected = sign_token(secret, request_id, user_id, movie_ids)
    return hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
