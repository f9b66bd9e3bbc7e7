"""The IdentityVerifier of ``MOVIEREC_AUTH=firebase``: firebase-admin's ``auth.verify_id_token``.

A Firebase ID token is a JWT signed by Google for one Firebase project: firebase-admin
checks its signature against Google's public keys (fetched, then cached as their
Cache-Control says), its ``aud``/``iss`` (this project), ``sub`` and expiry, and, with
``check_revoked``, asks Firebase Auth whether the account was disabled or its sessions
revoked since the token was issued (one lookup per request; ``MOVIEREC_AUTH_CHECK_REVOKED``).

The Auth emulator (``FIREBASE_AUTH_EMULATOR_HOST``, read by firebase-admin itself from the
process environment) issues unsigned tokens, and firebase-admin's emulator mode skips the
signature check and, with it, the expiry check that google-auth does there; the expiry is
checked here as well, so a token past its ``exp`` is refused on the emulator as in
production (in production this second check never fires first).

Every refusal's detail (which claim was wrong) goes to the log; the client is told only
what it can act on: sign in again, or retry later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import firebase_admin
from firebase_admin import auth, credentials, exceptions
from google.auth.exceptions import DefaultCredentialsError

from movierec.errors import ConfigError
from movierec.serving.outcomes import Unauthenticated, Unavailable

log = logging.getLogger(__name__)

_apps_lock = threading.Lock()


def _credential(emulated: bool) -> credentials.Base | None:
    """Application Default Credentials, loaded now: firebase-admin needs them for its auth
    client (outside the emulator) and would otherwise fail on the first request, as a 500."""
    if emulated:
        return None  # the emulator's client uses its own stand-in credentials
    credential = credentials.ApplicationDefault()
    try:
        credential.get_credential()
    except DefaultCredentialsError as exc:
        raise ConfigError(
            "MOVIEREC_AUTH=firebase needs Google credentials to verify ID tokens: on Cloud Run the "
            "function's service account; on a workstation `gcloud auth application-default login`, "
            f"or FIREBASE_AUTH_EMULATOR_HOST for the emulator ({exc})"
        ) from None
    return credential


def _app_for(project: str, http_timeout: float, emulated: bool) -> firebase_admin.App:
    """One firebase-admin app per project and process (the SDK keeps a registry of named apps)."""
    name = f"movierec:{project}"
    with _apps_lock:
        try:
            return firebase_admin.get_app(name)
        except ValueError:  # not initialised yet
            return firebase_admin.initialize_app(
                _credential(emulated), options={"projectId": project, "httpTimeout": http_timeout}, name=name
            )


class FirebaseVerifier:
    """``verify(token) -> uid`` for the Firebase project ``project``.

    ``emulator_host``: the Settings' FIREBASE_AUTH_EMULATOR_HOST (firebase-admin reads the
    same variable itself); without it, credentials are required at construction.
    """

    def __init__(self, project: str, *, check_revoked: bool = False, http_timeout: float = 2.0,
                 emulator_host: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.project, self.check_revoked, self._clock = project, check_revoked, clock
        self._app = _app_for(project, http_timeout, emulated=emulator_host is not None)

    def verify(self, id_token: str) -> str:
        try:
            claims = auth.verify_id_token(id_token, app=self._app, check_revoked=self.check_revoked)
        except auth.ExpiredIdTokenError:
            raise Unauthenticated("the ID token has expired; sign in again") from None
        except auth.RevokedIdTokenError:
            raise Unauthenticated("the ID token was revoked; sign in again") from None
        except auth.UserDisabledError:
            raise Unauthenticated("the account is disabled") from None
        except auth.UserNotFoundError:
            raise Unauthenticated("the account no longer exists") from None
        except (auth.InvalidIdTokenError, ValueError) as exc:  # ValueError: not a string, or empty
            log.info("ID token refused: %s", exc)
            raise Unauthenticated("the bearer token is not a valid Firebase ID token of this project") from None
        except auth.CertificateFetchError as exc:
            log.error("Firebase public keys unreachable: %s", exc)
            raise Unavailable("the ID token cannot be checked now (Firebase keys unreachable)") from None
        except exceptions.FirebaseError as exc:  # the revocation lookup failed: no verdict
            log.error("Firebase Auth lookup failed: %s", exc)
            raise Unavailable("the ID token cannot be checked now (Firebase Auth unreachable)") from None
        if float(claims.get("exp", 0)) <= self._clock():  # see the module docstring
            raise Unauthenticated("the ID token has expired; sign in again")
        return str(claims["uid"])
