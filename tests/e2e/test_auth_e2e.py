"""MOVIEREC_AUTH=firebase over real HTTP: a real `movierec serve`, real ID tokens from the
Firebase Auth emulator (firebase-tools), the users/{uid} links on each backend (SQLite's
table, Firestore's documents on the Firestore emulator).

What the emulator cannot show: its tokens are unsigned and firebase-admin's emulator mode
skips the signature check. The signature requirement is shown by a server *without* the
emulator (production verification) refusing those same tokens; tokens whose claims are
rewritten (another project, an expiry in the past) stand for forged and expired ones.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from movierec.stores.firestore_users import FirestoreUserDirectory
from movierec.stores.local_users import SQLiteUserDirectory
from tests.e2e.server import running_server
from tests.emulators import AUTH_TEST_PROJECT, AuthEmulator
from tests.fixtures.serving import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

ALICE, BOB = 196, 186  # ml-100k users the models know


def rewritten(token: str, **claims: Any) -> str:
    """``token`` with some claims changed and its (empty) signature kept: a forgery."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@cache
def contract() -> OpenAPI:
    return OpenAPI.from_dict(yaml.safe_load((REPO / "functions" / "openapi.yaml").read_text()))


def conforms(response: requests.Response) -> None:
    """The answer is one functions/openapi.yaml allows (status, headers, body)."""
    contract().validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


def assert_unauthenticated(response: requests.Response, words: str = "") -> None:
    conforms(response)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["code"] == "unauthenticated" and words in error["message"], error


def assert_forbidden(response: requests.Response, words: str) -> None:
    conforms(response)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "permission_denied" and words in error["message"], error


@dataclass
class SignedIn:
    url: str
    auth: AuthEmulator
    users: Any  # UserDirectory of the server's backend

    def account(self, email: str, user_id: int | None) -> dict[str, Any]:
        account = self.auth.sign_up(email)
        if user_id is not None:
            self.users.link(account["localId"], user_id)
        return account

    def recommend(self, token: str | None, **params: Any) -> requests.Response:
        headers = bearer(token) if token else {}
        return requests.get(f"{self.url}/recommend", params={"top_n": 5, **params}, headers=headers, timeout=30)

    def feedback(self, token: str | None, body: dict[str, Any]) -> requests.Response:
        headers = bearer(token) if token else {}
        return requests.post(f"{self.url}/feedback", json=body, headers=headers, timeout=30)

    def admin(self, uid: str, **changes: Any) -> None:
        """accounts:update as an administrator (the emulator's ``Bearer owner``)."""
        response = requests.post(
            f"{self.auth.url}/identitytoolkit.googleapis.com/v1/projects/{AUTH_TEST_PROJECT}/accounts:update",
            json={"localId": uid, **changes}, headers={"Authorization": "Bearer owner"}, timeout=10,
        )
        response.raise_for_status()


def directory_of(backend, tmp_path) -> Any:
    if backend.name == "local":
        return SQLiteUserDirectory(tmp_path / "events.sqlite")
    backend.emulator.reset(AUTH_TEST_PROJECT)
    return FirestoreUserDirectory(backend.emulator.client(AUTH_TEST_PROJECT))


@pytest.fixture
def signed_in(backend, auth_emulator: AuthEmulator, tmp_path) -> Iterator[SignedIn]:
    """A server with MOVIEREC_AUTH=firebase and revocation checks, on ``backend``."""
    auth_emulator.start()
    auth_emulator.reset()
    env = {
        **backend.env, **auth_emulator.env(),
        "MOVIEREC_AUTH": "firebase", "MOVIEREC_AUTH_CHECK_REVOKED": "true",
        # The Firebase project the emulator issues tokens for (Firestore takes any project).
        "GOOGLE_CLOUD_PROJECT": AUTH_TEST_PROJECT,
    }
    with running_server(env, tmp_path / "server.log", workers=1) as url:
        yield SignedIn(url, auth_emulator, directory_of(backend, tmp_path))


def test_the_token_decides_the_user(signed_in: SignedIn) -> None:
    alice = signed_in.account("alice@example.com", ALICE)["idToken"]
    implicit = signed_in.recommend(alice)
    assert implicit.status_code == 200, implicit.text
    assert implicit.json()["user_id"] == ALICE  # user_id left out: the signed-in user
    assert signed_in.recommend(alice, user_id=ALICE).status_code == 200
    assert_forbidden(signed_in.recommend(alice, user_id=BOB), f"user_id {BOB} is not the signed-in user")
    post = requests.post(f"{signed_in.url}/recommend", json={"user_id": BOB}, headers=bearer(alice), timeout=30)
    assert_forbidden(post, "is not the signed-in user")

    carol = signed_in.account("carol@example.com", None)
    assert_forbidden(signed_in.recommend(carol["idToken"]), f"{carol['localId']} is not linked")


def test_no_token_a_malformed_one_or_a_forged_one_is_401(signed_in: SignedIn) -> None:
    alice = signed_in.account("alice@example.com", ALICE)["idToken"]
    assert_unauthenticated(signed_in.recommend(None, user_id=ALICE), "sign in first")
    basic = requests.get(f"{signed_in.url}/recommend", params={"user_id": ALICE},
                         headers={"Authorization": "Basic YWxpY2U6eA=="}, timeout=30)
    assert_unauthenticated(basic, "Bearer")
    assert_unauthenticated(signed_in.recommend("garbage"), "not a valid Firebase ID token")
    assert_unauthenticated(signed_in.recommend("a.b.c"), "not a valid Firebase ID token")
    other_project = rewritten(alice, aud="someone-else", iss="https://securetoken.google.com/someone-else")
    assert_unauthenticated(signed_in.recommend(other_project), "not a valid Firebase ID token")
    # Only exp moved: an iat before the account existed would read as revoked (checked too).
    assert_unauthenticated(signed_in.recommend(rewritten(alice, exp=int(time.time()) - 1)), "expired")


def test_revoked_sessions_and_disabled_accounts_are_401(signed_in: SignedIn) -> None:
    dave = signed_in.account("dave@example.com", ALICE)
    assert signed_in.recommend(dave["idToken"]).status_code == 200
    time.sleep(1.1)  # revocation counts whole seconds: the token must be older than it
    signed_in.admin(dave["localId"], validSince=str(int(time.time())))
    assert_unauthenticated(signed_in.recommend(dave["idToken"]), "revoked")
    fresh = signed_in.auth.sign_in("dave@example.com")["idToken"]  # signing in again works
    assert signed_in.recommend(fresh).status_code == 200

    signed_in.admin(dave["localId"], disableUser=True)
    assert_unauthenticated(signed_in.recommend(fresh), "disabled")


def test_feedback_is_only_for_the_signed_in_users_own_lists(signed_in: SignedIn) -> None:
    alice = signed_in.account("alice@example.com", ALICE)["idToken"]
    bob = signed_in.account("bob@example.com", BOB)["idToken"]
    rec = signed_in.recommend(alice).json()
    click = {"request_id": rec["request_id"], "token": rec["token"], "movie_id": rec["items"][0]["movie_id"],
             "type": "click"}
    assert_unauthenticated(signed_in.feedback(None, {**click, "user_id": ALICE}))
    # Bob replays Alice's list and its feedback token: as himself, or naming her.
    assert_forbidden(signed_in.feedback(bob, click), "token is not valid")
    assert_forbidden(signed_in.feedback(bob, {**click, "user_id": ALICE}), "is not the signed-in user")
    stored = signed_in.feedback(alice, click)
    assert stored.status_code == 201, stored.text
    assert signed_in.feedback(alice, {**click, "user_id": ALICE}).status_code == 200  # the same click again


def service_account_file(folder: Path) -> Path:
    """A service-account key file of a made-up account (a fresh RSA key): what Application
    Default Credentials load on a machine; nothing here ever uses it to call Google."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = folder / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": AUTH_TEST_PROJECT, "private_key_id": "test",
        "private_key": pem, "client_email": f"serving@{AUTH_TEST_PROJECT}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "http://127.0.0.1:9/token",
    }))
    return path


def test_without_the_emulator_unsigned_tokens_are_refused(auth_emulator: AuthEmulator, local_env, tmp_path) -> None:
    """Production verification (no FIREBASE_AUTH_EMULATOR_HOST) wants Google's signature:
    the emulator's unsigned tokens are refused before any key is fetched."""
    auth_emulator.start()
    auth_emulator.reset()
    account = auth_emulator.sign_up("eve@example.com")
    SQLiteUserDirectory(tmp_path / "events.sqlite").link(account["localId"], ALICE)
    env = {**local_env, "MOVIEREC_AUTH": "firebase", "GOOGLE_CLOUD_PROJECT": AUTH_TEST_PROJECT,
           "FIREBASE_AUTH_EMULATOR_HOST": "", "GOOGLE_APPLICATION_CREDENTIALS": str(service_account_file(tmp_path))}
    with running_server(env, tmp_path / "server.log", workers=1) as url:
        response = requests.get(f"{url}/recommend", headers=bearer(account["idToken"]), timeout=30)
    assert_unauthenticated(response, "not a valid Firebase ID token")
    # The reason, logged (JSON-escaped): no key id, so no signature to check it with.
    assert re.search(r'ID token has no \\"kid\\" claim', (tmp_path / "server.log").read_text())


def test_without_auth_the_user_id_is_trusted_and_headers_are_ignored(local_env, tmp_path) -> None:
    with running_server(local_env, tmp_path / "server.log", workers=1) as url:
        response = requests.get(f"{url}/recommend", params={"user_id": ALICE}, headers=bearer("garbage"), timeout=30)
        missing = requests.get(f"{url}/recommend", timeout=30)
    assert response.status_code == 200 and response.json()["user_id"] == ALICE
    assert missing.status_code == 400 and missing.json()["error"]["message"] == "user_id is required"
