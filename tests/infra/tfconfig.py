"""Read infra/*.tf with python-hcl2 and check how the pieces are wired together.

Every ``*_problems`` function takes a parsed configuration and returns a list of
human-readable problems (empty when the wiring holds), so a test asserts ``== []``
on the real folder and ``!= []`` on a copy broken on purpose.

The configuration uses ``for_each`` over maps in ``locals`` (main.tf), so most
checks read those maps; :func:`local_names` follows ``local.X`` references
through expressions to collect the keys of the maps they use.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

_OPTIONS = SerializationOptions(
    with_comments=False, strip_string_quotes=True, explicit_blocks=False
)
_LOCAL_REF = re.compile(r"\blocal\.([A-Za-z_][A-Za-z0-9_]*)")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_LITERAL_KEY = re.compile(r"[{,\s]([A-Z][A-Z0-9_]+)\s*=")

_EMULATORS = {
    name: "local stand-ins for tests and demos; Cloud Run talks to Google Cloud itself"
    for name in ("STORAGE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST",
                 "FIREBASE_AUTH_EMULATOR_HOST")
}
_SERVER_SETTINGS = (
    "MOVIEREC_HEADER_TIMEOUT_SECONDS", "MOVIEREC_BODY_TIMEOUT_SECONDS", "MOVIEREC_KEEPALIVE_SECONDS",
    "MOVIEREC_WORKER_CONNECTIONS", "MOVIEREC_GRACEFUL_TIMEOUT_SECONDS", "PROMETHEUS_MULTIPROC_DIR",
)
# Settings.from_env names that the functions and jobs deliberately do NOT get from
# Terraform, with the reason. A new setting must be added here or to the Terraform
# environment: tests fail until someone decides.
NOT_SET_FOR_FUNCTIONS: dict[str, str] = {
    "MOVIEREC_HOME": "local backend only: folder of the embedded stores",
    "MOVIELENS_DIR": "ratings are read by training, serving loads model artifacts",
    "MOVIEREC_DATA_CACHE": "download cache of training data",
    "MOVIEREC_DATASET": "chooses the training data",
    "MOVIEREC_DATASET_VERSION": "chooses the training data",
    "MOVIEREC_SEED": "training randomness",
    "MLFLOW_TRACKING_URI": "experiment tracking of training runs",
    "MOVIEREC_MAX_BODY_BYTES": "the 64 KiB default fits every request of the API",
    "MOVIEREC_ARTIFACT_REFRESH_SECONDS": "the 60 s default is what serving wants",
    "MOVIEREC_TOKEN_TTL_SECONDS": "the 24 h default is the feedback window the product wants",
    "MOVIEREC_METRICS_TOKEN": "/metrics is served by `movierec serve` only, not by the Cloud Run functions",
    "MOVIEREC_LOG_LEVEL": "INFO, the default, is what Cloud Logging should get",
    "MOVIEREC_CTR_ALERT_FLOOR": "alerts are sent by the daily job's report",
    "MOVIEREC_REQUEST_DEADLINE_SECONDS": "the 1 s default is far under the functions' 30 s timeout",
    "MOVIEREC_BREAKER_FAILURES": "the default (3) is what serving wants",
    "MOVIEREC_BREAKER_RESET_SECONDS": "the default (0.5 s) is what serving wants",
    "MOVIEREC_FOLDIN_EVENTS": "the default (50) is what serving wants",
    "MOVIEREC_FOLDIN_CACHE_SECONDS": "the default (2 s) is what serving wants",
    "MOVIEREC_FOLDIN_READ_SECONDS": "the default (0.5 s of the 1 s deadline) is what serving wants",
    **{name: "`movierec serve` only: on Cloud Run functions-framework starts its own gunicorn"
       for name in _SERVER_SETTINGS},
    **_EMULATORS,
}
NOT_SET_FOR_JOBS: dict[str, str] = {
    "MOVIEREC_EVENT_RETENTION_DAYS": "the jobs write no events (only the functions do)",
    "MOVIEREC_TOKEN_SECRET": "only serving signs tokens; the jobs are not given the secret (local.secret_readers)",
    "MOVIEREC_HOME": "set by the image (/tmp/movierec): scratch space of the job",
    "MOVIELENS_DIR": "the job downloads and verifies the official archive",
    "MOVIEREC_DATA_CACHE": "set by the image (/tmp/movierec-cache)",
    "MOVIEREC_SEED": "the default seed keeps retraining reproducible",
    "MOVIEREC_MAX_BODY_BYTES": "serving only",
    "MOVIEREC_ARTIFACT_REFRESH_SECONDS": "serving only",
    "MOVIEREC_TOKEN_TTL_SECONDS": "serving only",
    "MOVIEREC_METRICS_TOKEN": "the local server only",
    "MOVIEREC_LOG_LEVEL": "INFO, the default, is what Cloud Logging should get",
    "MOVIEREC_REQUEST_DEADLINE_SECONDS": "serving only",
    "MOVIEREC_BREAKER_FAILURES": "serving only",
    "MOVIEREC_BREAKER_RESET_SECONDS": "serving only",
    "MOVIEREC_FOLDIN_EVENTS": "serving only",
    "MOVIEREC_FOLDIN_CACHE_SECONDS": "serving only",
    "MOVIEREC_FOLDIN_READ_SECONDS": "serving only",
    "MOVIEREC_AUTH": "serving only: the jobs answer no requests",
    "MOVIEREC_AUTH_CHECK_REVOKED": "serving only",
    **{name: "serving only" for name in _SERVER_SETTINGS},
    **_EMULATORS,
}
# Optional settings: set by Terraform only when their variable is, so only their
# presence in the wiring is checked.
# MOVIEREC_DATASET_VERSION: the retrain job's only (the daily job trains nothing);
# test_dataset_version.py checks the retrain job gets it.
OPTIONAL_FOR_JOBS = {"MLFLOW_TRACKING_URI", "MOVIEREC_CTR_ALERT_FLOOR", "MOVIEREC_DATASET_VERSION"}


@dataclass(frozen=True)
class TfConfig:
    """The merged blocks of every *.tf file of one folder."""

    folder: Path
    locals: dict[str, Any]
    resources: dict[str, dict[str, dict[str, Any]]]  # type -> name -> body
    variables: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]

    def resource(self, type_: str, name: str) -> dict[str, Any]:
        try:
            return self.resources[type_][name]
        except KeyError:
            raise AssertionError(f"{self.folder}: no resource {type_}.{name}") from None


def parse_file(path: Path) -> dict[str, Any]:
    """Parse one .tf file; a syntax error names the file."""
    with path.open(encoding="utf-8") as handle:
        try:
            return hcl2.load(handle, serialization_options=_OPTIONS)
        except Exception as error:  # the parser raises lark errors of many kinds
            raise AssertionError(f"{path}: not valid HCL2: {error}") from error


def load(folder: Path) -> TfConfig:
    """Parse every *.tf file of ``folder`` and merge their blocks."""
    locals_: dict[str, Any] = {}
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    variables: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    files = sorted(folder.glob("*.tf"))
    if not files:
        raise AssertionError(f"{folder}: no .tf files")
    for path in files:
        doc = parse_file(path)
        for block in doc.get("locals", []):
            locals_.update(block)
        for block in doc.get("resource", []):
            for type_, named in block.items():
                resources.setdefault(type_, {}).update(named)
        for block in doc.get("variable", []):
            variables.update(block)
        for block in doc.get("output", []):
            outputs.update(block)
    return TfConfig(folder, locals_, resources, variables, outputs)


def local_names(config: TfConfig, expression: Any, _seen: frozenset[str] = frozenset()) -> set[str]:
    """Environment-variable-like keys an expression reaches.

    Literal ``NAME = ...`` keys in the expression, plus the keys of every map it
    reaches through ``local.X`` references (followed through locals that are
    themselves expressions).
    """
    if isinstance(expression, dict):
        names = {key for key in expression if _ENV_NAME.match(key)}
        for value in expression.values():
            names |= local_names(config, value, _seen)
        return names
    if not isinstance(expression, str):
        return set()
    names = {m for m in _LITERAL_KEY.findall(expression) if _ENV_NAME.match(m)}
    for ref in _LOCAL_REF.findall(expression):
        if ref in _seen or ref not in config.locals:
            continue
        value = config.locals[ref]
        if isinstance(value, dict):
            names |= {key for key in value if _ENV_NAME.match(key)}
        names |= local_names(config, value, _seen | {ref})
    return names


def settings_env_names(settings_py: Path) -> set[str]:
    """Every environment variable name ``Settings.from_env`` mentions (read with ast)."""
    tree = ast.parse(settings_py.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "from_env":
            return {
                const.value
                for const in ast.walk(node)
                if isinstance(const, ast.Constant)
                and isinstance(const.value, str)
                and _ENV_NAME.match(const.value)
            }
    raise AssertionError(f"{settings_py}: no from_env function")


def _dynamic_blocks(body: dict[str, Any], label: str) -> Iterator[dict[str, Any]]:
    for dynamic in body.get("dynamic", []):
        if label in dynamic:
            yield dynamic[label]


def function_env_names(config: TfConfig) -> dict[str, set[str]]:
    """Per function (key of local.functions), the env names Terraform sets on it."""
    fn = config.resource("google_cloudfunctions2_function", "this")
    service = fn["service_config"][0]
    names = local_names(config, service.get("environment_variables", {}))
    for block in _dynamic_blocks(service, "secret_environment_variables"):
        names |= local_names(config, block["for_each"])
    return {name: set(names) for name in config.locals.get("functions", {})}


def job_env_names(config: TfConfig) -> dict[str, set[str]]:
    """Per job (key of local.jobs), the env names Terraform sets on its container."""
    job = config.resource("google_cloud_run_v2_job", "this")
    container = job["template"][0]["template"][0]["containers"][0]
    shared: set[str] = set()
    for block in _dynamic_blocks(container, "env"):
        shared |= local_names(config, block["for_each"])
    uses_own_env = any(
        "each.value.env" in str(block["for_each"]) for block in _dynamic_blocks(container, "env")
    )
    result = {}
    for name, spec in config.locals.get("jobs", {}).items():
        own = set(spec.get("env", {})) if uses_own_env else set()
        result[name] = shared | {n for n in own if _ENV_NAME.match(n)}
    return result


def env_problems(config: TfConfig, settings_py: Path) -> list[str]:
    """Every setting the code reads is either set by Terraform or exempted with a reason."""
    problems = []
    wanted = settings_env_names(settings_py)
    for kind, per_workload, exempt, optional in (
        ("function", function_env_names(config), NOT_SET_FOR_FUNCTIONS, set()),
        ("job", job_env_names(config), NOT_SET_FOR_JOBS, OPTIONAL_FOR_JOBS),
    ):
        if not per_workload:
            problems.append(f"no {kind}s found in locals")
        for workload, names in sorted(per_workload.items()):
            for env in sorted(wanted - set(exempt)):
                if env not in names and env not in optional:
                    problems.append(
                        f"{kind} {workload!r} does not get {env}, which Settings.from_env reads: "
                        f"set it in infra/main.tf or exempt it in tests/infra/tfconfig.py with a reason"
                    )
    return problems


def names_of(expression: Any) -> set[str]:
    """The keys of a map, or the quoted names of a ``toset([...])`` expression."""
    if isinstance(expression, dict):
        return set(expression)
    return set(re.findall(r'"([^"]+)"', str(expression)))


def service_account_problems(config: TfConfig) -> list[str]:
    """Each function and job runs as its own service account, which exists."""
    problems = []
    accounts = names_of(config.locals.get("service_accounts", {}))
    owners: dict[str, str] = {}
    for kind in ("functions", "jobs"):
        for name, spec in config.locals.get(kind, {}).items():
            sa = spec.get("service_account")
            if not sa:
                problems.append(f"{kind[:-1]} {name!r} names no service_account")
                continue
            if sa not in accounts:
                problems.append(
                    f"{kind[:-1]} {name!r} runs as {sa!r}, which local.service_accounts lacks"
                )
            if sa in owners:
                problems.append(
                    f"{kind[:-1]} {name!r} shares service account {sa!r} with {owners[sa]}"
                )
            owners[sa] = f"{kind[:-1]} {name!r}"
    fn = config.resource("google_cloudfunctions2_function", "this")
    if "google_service_account.workload[each.value.service_account]" not in str(
        fn["service_config"][0].get("service_account_email")
    ):
        problems.append(
            "the functions do not run as google_service_account.workload[each.value.service_account]"
        )
    job = config.resource("google_cloud_run_v2_job", "this")
    if "google_service_account.workload[each.value.service_account]" not in str(
        job["template"][0]["template"][0].get("service_account")
    ):
        problems.append(
            "the jobs do not run as google_service_account.workload[each.value.service_account]"
        )
    return problems


def bucket_problems(config: TfConfig) -> list[str]:
    """No bucket is public; the artifact bucket keeps versions and expires old ones."""
    problems = []
    for name, bucket in config.resources.get("google_storage_bucket", {}).items():
        if bucket.get("public_access_prevention") != "enforced":
            problems.append(f"bucket {name}: public_access_prevention is not 'enforced'")
        if bucket.get("uniform_bucket_level_access") is not True:
            problems.append(f"bucket {name}: uniform_bucket_level_access is not true")
    for kind in ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding"):
        for name, grant in config.resources.get(kind, {}).items():
            members = str(grant.get("member", "")) + str(grant.get("members", ""))
            if "allUsers" in members or "allAuthenticatedUsers" in members:
                problems.append(f"{kind}.{name} grants a bucket to the public")
    artifacts = config.resources.get("google_storage_bucket", {}).get("artifacts")
    if artifacts is None:
        problems.append("no artifact bucket (google_storage_bucket.artifacts)")
    else:
        if not artifacts.get("versioning") or artifacts["versioning"][0].get("enabled") is not True:
            problems.append("artifact bucket: versioning is off")
        conditions = [rule["condition"][0] for rule in artifacts.get("lifecycle_rule", [])]
        if not any("days_since_noncurrent_time" in c for c in conditions):
            problems.append("artifact bucket: no lifecycle rule deletes old noncurrent versions")
        if not any("num_newer_versions" in c for c in conditions):
            problems.append("artifact bucket: no lifecycle rule bounds the number of versions")
    return problems


def scheduler_problems(config: TfConfig) -> list[str]:
    """Every scheduler job starts a Cloud Run job that exists, as the scheduler identity."""
    problems = []
    schedulers = config.resources.get("google_cloud_scheduler_job", {})
    jobs = config.resources.get("google_cloud_run_v2_job", {})
    if not schedulers:
        problems.append("no google_cloud_scheduler_job")
    for name, scheduler in schedulers.items():
        uri = str(scheduler.get("http_target", [{}])[0].get("uri", ""))
        target = re.search(r"google_cloud_run_v2_job\.([A-Za-z0-9_]+)(\[each\.key\])?", uri)
        if target is None:
            problems.append(f"scheduler {name}: its URI targets no google_cloud_run_v2_job")
            continue
        if target.group(1) not in jobs:
            problems.append(
                f"scheduler {name}: targets google_cloud_run_v2_job.{target.group(1)}, which does not exist"
            )
        if not uri.endswith(":run"):
            problems.append(f"scheduler {name}: URI does not call the jobs :run method")
        if target.group(2) and str(scheduler.get("for_each")) != str(
            jobs.get(target.group(1), {}).get("for_each")
        ):
            problems.append(
                f"scheduler {name}: for_each differs from the job's, so some schedules have no job"
            )
        oauth = scheduler.get("http_target", [{}])[0].get("oauth_token", [{}])[0]
        if 'workload["scheduler"]' not in str(oauth.get("service_account_email")):
            problems.append(
                f"scheduler {name}: does not authenticate as the scheduler service account"
            )
    for name, spec in config.locals.get("jobs", {}).items():
        if not spec.get("schedule"):
            problems.append(f"job {name!r} has no schedule")
    return problems


def secret_problems(config: TfConfig) -> list[str]:
    """Every secret the workloads read exists and the workloads may read it."""
    problems = []
    secrets = config.locals.get("secrets", {})
    for env, key in config.locals.get("secret_env", {}).items():
        if key not in secrets:
            problems.append(f"{env} reads secret {key!r}, which local.secrets does not define")
    for key in secrets:
        if key not in config.locals.get("secret_values_present", {}):
            problems.append(
                f"secret {key!r}: unknown whether it has a version (local.secret_values_present)"
            )
    if "google_secret_manager_secret" not in config.resources:
        problems.append("no google_secret_manager_secret resource")
    accessor = config.resources.get("google_secret_manager_secret_iam_member", {}).get("accessor")
    if accessor is None or "local.secret_readers" not in str(accessor.get("for_each")):
        problems.append(
            "no secretAccessor grant over local.secret_readers for the runtime service accounts"
        )
    for workload, keys in config.locals.get("secret_readers", {}).items():
        for key in keys:
            if key not in secrets:
                problems.append(f"{workload} reads secret {key!r}, which local.secrets does not define")
    return problems


def invoker_problems(config: TfConfig) -> list[str]:
    """Who may call a function is a variable, and nobody by default."""
    problems = []
    for name, spec in config.locals.get("functions", {}).items():
        ref = re.fullmatch(r"\$\{var\.([a-z_]+)\}", str(spec.get("invokers", "")))
        if ref is None:
            problems.append(f"function {name!r}: invokers do not come from a variable")
            continue
        variable = config.variables.get(ref.group(1))
        if variable is None:
            problems.append(f"function {name!r}: variable {ref.group(1)} is not declared")
        elif variable.get("default") != []:
            problems.append(f"function {name!r}: {ref.group(1)} lets someone in by default")
    return problems


def variable_problems(config: TfConfig) -> list[str]:
    """Every variable is typed, described and validated (or is a plain bool)."""
    problems = []
    for name, body in config.variables.items():
        if "type" not in body:
            problems.append(f"variable {name}: no type")
        if not str(body.get("description", "")).strip():
            problems.append(f"variable {name}: no description")
        if (
            "validation" not in body
            and body.get("type") != "${bool}"
            and body.get("type") != "bool"
        ):
            problems.append(f"variable {name}: no validation block")
    return problems
