# The one-time bootstrap, applied by a project owner (infra/README.md, step 2): the
# APIs, every identity, every project-level role and who may impersonate whom. It is
# the only place that changes project IAM, so the deploy account that applies infra/
# on every push holds no role that grants roles (no projectIamAdmin, serviceAccountAdmin,
# workloadIdentityPoolAdmin): it cannot make itself Owner.
#
# The roles of each workload follow what its code touches (tests/infra/test_iam.py
# checks them against local.project_roles here and the resource-level grants of
# infra/iam.tf).

locals {
  apis = toset([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    # Firebase Auth (Identity Toolkit): accounts of MOVIEREC_AUTH=firebase, and the
    # revocation lookup of MOVIEREC_AUTH_CHECK_REVOKED.
    "identitytoolkit.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
  ])

  # One identity per workload, so that a leaked token of one reaches only what that
  # workload needs. infra/main.tf's local.service_accounts names the same keys.
  service_accounts = {
    recommend = "Runs the recommend function"
    feedback  = "Runs the feedback function"
    retrain   = "Runs the weekly retrain job"
    daily     = "Runs the daily export + A/B report + drift job"
    scheduler = "Cloud Scheduler: starts the jobs"
    build     = "Cloud Build: builds the functions from source"
    deploy    = "GitHub Actions deploy (Workload Identity Federation): applies infra/"
    dispatch  = "GitHub Actions retrain workflow: may only start the retrain job"
  }

  # Project-level roles: only those that have no narrower resource to be granted on.
  # Everything else (buckets, prefixes, datasets, secrets, jobs, repositories) is
  # granted on the resource in infra/iam.tf.
  project_roles = {
    # Firestore has no per-collection IAM; datastore.user is read + write of documents.
    recommend = ["roles/datastore.user"]
    feedback  = ["roles/datastore.user"]
    # Retrain reads feedback from BigQuery (jobs run in the project: jobUser) and falls
    # back to scanning Firestore.
    retrain = ["roles/datastore.viewer", "roles/bigquery.jobUser"]
    # The daily job scans Firestore (export, drift) and runs BigQuery load/query jobs.
    daily = ["roles/datastore.viewer", "roles/bigquery.jobUser"]
    # Cloud Build writes the build logs. Its other roles (Artifact Registry writer on
    # the functions' repository, object admin on the source bucket) are in infra/iam.tf;
    # https://cloud.google.com/functions/docs/securing/build-custom-sa lists the three.
    build = ["roles/logging.logWriter"]
    # What `terraform apply` of infra/ needs to create and change the resources, and
    # nothing that grants project roles or mints credentials for other accounts.
    deploy = [
      "roles/artifactregistry.admin",
      "roles/bigquery.admin",
      "roles/cloudfunctions.admin",
      "roles/cloudscheduler.admin",
      "roles/datastore.owner",
      "roles/iam.serviceAccountViewer",
      "roles/logging.configWriter",
      "roles/monitoring.alertPolicyEditor",
      "roles/monitoring.dashboardEditor",
      "roles/monitoring.notificationChannelEditor",
      "roles/run.admin",
      "roles/secretmanager.admin",
      "roles/serviceusage.serviceUsageConsumer",
      "roles/storage.admin",
    ]
    dispatch  = []
    scheduler = []
  }

  project_role_bindings = {
    for pair in flatten([
      for sa, roles in local.project_roles : [for role in roles : { sa = sa, role = role }]
    ]) : "${pair.sa}/${pair.role}" => pair
  }

  # The accounts the deploy account deploys code as (the functions, the jobs, the
  # scheduler and Cloud Build): serviceAccountUser on each, never project-wide.
  deployed_as = toset(["recommend", "feedback", "retrain", "daily", "scheduler", "build"])

  # GitHub workflows that get Google credentials, and the account each may impersonate.
  github_accounts = toset(["deploy", "dispatch"])
}

resource "google_project_service" "apis" {
  for_each = local.apis

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "workload" {
  for_each = local.service_accounts

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "${var.name_prefix} ${each.key}"
  description  = each.value

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "workload" {
  for_each = local.project_role_bindings

  project = var.project_id
  role    = each.value.role
  member  = google_service_account.workload[each.value.sa].member
}

resource "google_service_account_iam_member" "deploy_acts_as" {
  for_each = local.deployed_as

  service_account_id = google_service_account.workload[each.key].name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.workload["deploy"].member
}

# --- GitHub Actions through Workload Identity Federation (no JSON keys) ------

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = "${var.name_prefix}-github"
  display_name              = "GitHub Actions"
  description               = "OIDC tokens of ${var.github_repository}'s workflows"

  depends_on = [google_project_service.apis]
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:The condition pins assertion.sub to repo:OWNER/NAME:ref:REF; checkov cannot see the owner/name inside var.github_repository (validated as owner/name).
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github-actions"
  display_name                       = "GitHub Actions OIDC"

  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
    "attribute.ref"        = "assertion.ref"
  }
  # Only this repository's workflows running on the deploy ref can exchange a token
  # (the OIDC subject of a push, schedule or dispatch run on main).
  attribute_condition = "assertion.sub == 'repo:${var.github_repository}:ref:${var.github_deploy_ref}'"

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "github_wif" {
  for_each = local.github_accounts

  service_account_id = google_service_account.workload[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/${var.github_repository}"
}

# Cloud Storage Data Access audit logs (reads and writes of objects: who read or
# replaced a model artifact), which the artifact bucket's checkov skip of access
# logging relies on. Part of the project IAM policy, hence here.
resource "google_project_iam_audit_config" "storage" {
  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
