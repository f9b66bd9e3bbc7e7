# Who may do what, granted on the narrowest resource. The identities, their few
# project-level roles and who may impersonate whom are in infra/bootstrap (applied
# once by a project owner); this folder only reads the accounts. tests/infra/test_iam.py
# checks every grant against what each workload's code touches.

data "google_service_account" "workload" {
  for_each = local.service_accounts

  project    = var.project_id
  account_id = "${var.name_prefix}-${each.key}"
}

# --- Cloud Storage: artifact bucket, by prefix --------------------------------
# IAM conditions on object names (uniform bucket-level access): a reader lists the
# bucket and reads only its prefixes; a writer creates, overwrites and deletes only
# under its prefixes. https://cloud.google.com/storage/docs/access-control/iam#conditions

resource "google_storage_bucket_iam_member" "artifact_readers" {
  for_each = local.bucket_readers

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectViewer"
  member = data.google_service_account.workload[each.key].member

  condition {
    title       = "${each.key}-reads"
    description = "Objects under ${join(", ", each.value)} (and the listing of the bucket)"
    expression = join(" || ", concat(
      ["resource.name == \"projects/_/buckets/${google_storage_bucket.artifacts.name}\""],
      [for prefix in each.value : "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.artifacts.name}/objects/${prefix}\")"],
    ))
  }
}

resource "google_storage_bucket_iam_member" "artifact_writers" {
  for_each = local.bucket_writers

  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectUser"
  member = data.google_service_account.workload[each.key].member

  condition {
    title       = "${each.key}-writes"
    description = "Objects under ${join(", ", each.value)} (and the listing of the bucket)"
    expression = join(" || ", concat(
      ["resource.name == \"projects/_/buckets/${google_storage_bucket.artifacts.name}\""],
      [for prefix in each.value : "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.artifacts.name}/objects/${prefix}\")"],
    ))
  }
}

# --- Cloud Build of the functions ---------------------------------------------
# https://cloud.google.com/functions/docs/securing/build-custom-sa (and
# https://cloud.google.com/run/docs/configuring/services/build-service-account) list
# the roles of a custom build account: Logs Writer (project, infra/bootstrap),
# Artifact Registry Writer (here: only the functions' repository, which the functions
# name as docker_repository) and Storage Object Admin (here: only the source bucket,
# to retrieve the function source).

resource "google_storage_bucket_iam_member" "build_source" {
  bucket = google_storage_bucket.function_source.name
  role   = "roles/storage.objectAdmin"
  member = data.google_service_account.workload["build"].member
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = data.google_service_account.workload["build"].member
}

# --- BigQuery --------------------------------------------------------------------

# The daily job loads the exports and records alerts; retrain only reads feedback.
resource "google_bigquery_dataset_iam_member" "daily_editor" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.events.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = data.google_service_account.workload["daily"].member
}

resource "google_bigquery_dataset_iam_member" "retrain_viewer" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.events.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = data.google_service_account.workload["retrain"].member
}

# --- Secret Manager: each workload its own secrets --------------------------------

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = {
    for pair in flatten([
      for sa, keys in local.secret_readers : [for key in keys : { sa = sa, secret = key }]
    ]) : "${pair.secret}/${pair.sa}" => pair
  }

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = data.google_service_account.workload[each.value.sa].member
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
  member   = data.google_service_account.workload["scheduler"].member
}

# The retrain workflow's account: start the retrain job (run.invoker is what
# `gcloud run jobs execute` needs, https://cloud.google.com/run/docs/execute/jobs)
# and watch its execution for --wait (run.viewer), on that one job only.
resource "google_cloud_run_v2_job_iam_member" "dispatch" {
  for_each = toset(["roles/run.invoker", "roles/run.viewer"])

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.this["retrain"].name
  role     = each.key
  member   = data.google_service_account.workload["dispatch"].member
}
