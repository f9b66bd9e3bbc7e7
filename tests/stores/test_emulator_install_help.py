"""A missing emulator is an error with the install command, never a silent skip."""

from __future__ import annotations

import pytest

from tests import emulators
from tests.emulators import EmulatorNotInstalled


def test_missing_firestore_launcher_names_the_apt_packages(tmp_path):
    with pytest.raises(EmulatorNotInstalled, match="apt-get install google-cloud-cli-firestore-emulator"):
        emulators.firestore_emulator(launcher=tmp_path / "cloud_firestore_emulator")


def test_missing_java_names_the_apt_packages(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EmulatorNotInstalled, match=r"java not found.*openjdk-17-jre-headless"):
        emulators.firestore_emulator()


def test_missing_bqemulator_names_the_setup_script(tmp_path):
    with pytest.raises(EmulatorNotInstalled, match=r"scripts/setup_emulators\.sh"):
        emulators.bigquery_emulator(venv=tmp_path / ".venv-bq")


def test_missing_firebase_tools_names_the_install_script(tmp_path):
    with pytest.raises(EmulatorNotInstalled, match=r"bash scripts/install_auth_emulator\.sh"):
        emulators.auth_emulator(program=tmp_path / "firebase")
