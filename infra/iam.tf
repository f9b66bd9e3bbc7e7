# Identities and who may do what. Project-wide roles come from local.project_roles;
# everything that can be granted on one resource is granted there.

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

# --- Cloud Storage ---------------------------------------------------------

# Serving reads artifacts; it never writes them.
resource "google_storage_bucket_iam_member" "artifacts_reader" {
  for_each = toset(["recommend"])

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.workload[each.key].member
}

# Retrain publishes model versions; the daily job writes reports.
resource "google_storage_bucket_iam_member" "artifacts_writer" {
  for_each = local.job_service_accounts

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectUser"
  member = google_service_account.workload[each.key].member
}

resource "google_storage_bucket_iam_member" "source_reader" {
  bucket = google_storage_bucket.function_source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.workload["build"].member
}

# --- BigQuery ----------------------------------------------------------------

resource "google_bigquery_dataset_iam_member" "daily_editor" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.events.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.workload["daily"].member
}

# --- Secret Manager ----------------------------------------------------------

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = {
    for pair in setproduct(keys(local.secrets), local.runtime_service_accounts) :
    "${pair[0]}/${pair[1]}" => { secret = pair[0], sa = pair[1] }
  }

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.workload[each.value.sa].member
}

# --- Cloud Run ---------------------------------------------------------------

resource "google_cloud_run_v2_service_iam_member" "function_invoker" {
  for_each = {
    for pair in flatten([
      for fn, cfg in local.functions : [for member in cfg.invokers : { fn = fn, member = member }]
    ]) : "${pair.fn}/${pair.member}" => pair
  }

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this[each.value.fn].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value.member
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_invoker" {
  for_each = local.jobs

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.this[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.workload["scheduler"].member
}

# The deploy identity may act as each runtime identity (to deploy with it), granted
# per service account rather than project-wide.
resource "google_service_account_iam_member" "deploy_acts_as" {
  for_each = { for name, _ in local.service_accounts : name => name if name != "deploy" }

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

resource "google_service_account_iam_member" "deploy_wif" {
  service_account_id = google_service_account.workload["deploy"].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/${var.github_repository}"
}
