"""The pure part of MOVIEREC_AUTH=firebase: the bearer header, the signed-in user's
default and check, the unlinked account's message; and the settings that turn it on."""

from __future__ import annotations

import pytest

from movierec.errors import ConfigError
from movierec.serving.identity import Authenticator, as_signed_in, bearer_token, check_signed_in
from movierec.serving.outcomes import Forbidden, Unauthenticated
from movierec.settings import Settings
from movierec.stores.local_users import SQLiteUserDirectory


@pytest.mark.parametrize("header", ["Bearer abc.def.", "bearer abc.def.", "  Bearer abc.def.  "])
def test_the_token_of_a_bearer_header(header: str) -> None:
    assert bearer_token(header) == "abc.def."


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic YWxpY2U6eA==", "Bearer a b", "Bearer a\nb"])
def test_anything_else_is_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        bearer_token(header)


def test_user_id_defaults_to_the_signed_in_user_and_must_be_it() -> None:
    assert as_signed_in({"top_n": 5}, 196) == {"user_id": 196, "top_n": 5}
    assert as_signed_in({"user_id": 3}, 196) == {"user_id": 3}  # kept, then refused by the check
    assert as_signed_in({"top_n": 5}, None) == {"top_n": 5}
    check_signed_in(196, 196)
    check_signed_in(3, None)  # MOVIEREC_AUTH=none: the user_id is trusted
    with pytest.raises(Forbidden, match="user_id 3 is not the signed-in user"):
        check_signed_in(3, 196)


class _Verifier:
    """The IdentityVerifier protocol for the pure path; firebase-admin's is tested over HTTP
    against the Auth emulator (tests/e2e/test_auth_e2e.py)."""

    def verify(self, id_token: str) -> str:
        if id_token != "good":
            raise Unauthenticated("no")
        return "uid-1"


def test_the_account_must_be_linked(tmp_path) -> None:
    users = SQLiteUserDirectory(tmp_path / "events.sqlite")
    auth = Authenticator(_Verifier(), users)
    with pytest.raises(Forbidden, match=r"uid-1 is not linked.*movierec users link --uid uid-1"):
        auth.user_of("Bearer good")
    users.link("uid-1", 42)
    assert auth.user_of("Bearer good") == 42
    with pytest.raises(Unauthenticated):
        auth.user_of("Bearer bad")


def test_auth_settings() -> None:
    assert (Settings.from_env({}).auth, Settings.from_env({}).auth_check_revoked) == ("none", False)
    on = Settings.from_env({"MOVIEREC_AUTH": "firebase", "GOOGLE_CLOUD_PROJECT": "p",
                            "MOVIEREC_AUTH_CHECK_REVOKED": "true", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"})
    assert (on.auth, on.auth_check_revoked, on.auth_emulator_host) == ("firebase", True, "127.0.0.1:9099")
    with pytest.raises(ConfigError, match="MOVIEREC_AUTH=firebase needs GOOGLE_CLOUD_PROJECT"):
        Settings.from_env({"MOVIEREC_AUTH": "firebase"})
    with pytest.raises(ConfigError, match="MOVIEREC_AUTH must be one of 'none', 'firebase'"):
        Settings.from_env({"MOVIEREC_AUTH": "oauth"})
    with pytest.raises(ConfigError, match="MOVIEREC_AUTH_CHECK_REVOKED must be true or false"):
        Settings.from_env({"MOVIEREC_AUTH_CHECK_REVOKED": "maybe"})
