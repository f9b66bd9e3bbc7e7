"""Settings read from an environment mapping: numbers parse strictly, with clear errors."""

from __future__ import annotations

import pytest

from movierec.errors import ConfigError
from movierec.settings import Settings


def test_fractional_seconds_and_an_optional_ctr_floor() -> None:
    settings = Settings.from_env({"MOVIEREC_ARTIFACT_REFRESH_SECONDS": "0.5", "MOVIEREC_CTR_ALERT_FLOOR": "0.02"})
    assert settings.artifact_refresh_seconds == 0.5
    assert settings.ctr_alert_floor == 0.02
    assert Settings.from_env({}).ctr_alert_floor is None
    assert Settings.from_env({"MOVIEREC_CTR_ALERT_FLOOR": "0"}).ctr_alert_floor is None  # Terraform's "off"


@pytest.mark.parametrize("raw", ["soon", "nan", "-1", "inf"])
def test_a_bad_number_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="MOVIEREC_ARTIFACT_REFRESH_SECONDS"):
        Settings.from_env({"MOVIEREC_ARTIFACT_REFRESH_SECONDS": raw})


def test_the_jobs_need_no_token_secret_but_serving_refuses_the_dev_key_on_gcp() -> None:
    from movierec.errors import ConfigError
    from movierec.serving.app import serving_config
    from movierec.settings import Settings

    env = {"MOVIEREC_BACKEND": "gcp", "GOOGLE_CLOUD_PROJECT": "p", "MOVIEREC_ARTIFACT_BUCKET": "b"}
    settings = Settings.from_env(env)  # a job: no token secret mounted (infra: local.secret_readers)
    assert settings.has_dev_token_secret
    with pytest.raises(ConfigError, match="MOVIEREC_BACKEND=gcp needs MOVIEREC_TOKEN_SECRET"):
        serving_config(settings)
    assert serving_config(Settings.from_env({**env, "MOVIEREC_TOKEN_SECRET": "k" * 32})).token_secret == "k" * 32


def test_serving_on_gcp_refuses_the_auth_emulator_beside_real_firestore() -> None:
    from movierec.errors import ConfigError
    from movierec.serving.app import serving_config
    from movierec.settings import Settings

    env = {"MOVIEREC_BACKEND": "gcp", "GOOGLE_CLOUD_PROJECT": "p", "MOVIEREC_ARTIFACT_BUCKET": "b",
           "MOVIEREC_TOKEN_SECRET": "k" * 32, "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST is set on Google Cloud"):
        serving_config(Settings.from_env(env))
    # the emulator tests: both emulators together
    serving_config(Settings.from_env({**env, "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8081"}))
