"""The Kubernetes manifest of the API (deploy/kubernetes/) is valid against the
Kubernetes API schemas, offline (kubernetes-validate bundles them), and keeps its
promises: a readiness probe on /healthz, an autoscaler, a non-root container."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.tools import REPO, edit, run, tool

MANIFEST = REPO / "deploy" / "kubernetes" / "movierec-api.yaml"


def validate(path: Path) -> tuple[int, str]:
    result = run([tool("kubernetes-validate"), "--strict", str(path)])
    return result.returncode, result.stdout + result.stderr


def documents(path: Path) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))}


def test_the_manifest_is_valid_against_the_kubernetes_schemas() -> None:
    code, output = validate(MANIFEST)
    assert code == 0, output
    assert output.count("passed") == 4, output


def test_readiness_on_healthz_an_autoscaler_and_no_root() -> None:
    docs = documents(MANIFEST)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == 8080
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    copy = tmp_path / "movierec-api.yaml"
    shutil.copy(MANIFEST, copy)
    return copy


def test_a_schema_error_is_caught(broken: Path) -> None:
    edit(broken, "            periodSeconds: 5\n", "            periodSeconds: often\n")
    code, output = validate(broken)
    assert code != 0 and "periodSeconds" in output, output
