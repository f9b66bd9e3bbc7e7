output "function_urls" {
  description = "HTTPS URL of each function (recommend, feedback)."
  value       = { for name, fn in google_cloudfunctions2_function.this : name => fn.url }
}

output "recommend_url" {
  description = "URL of the recommend function; the deploy workflow smoke-tests it."
  value       = google_cloudfunctions2_function.this["recommend"].url
}

output "job_names" {
  description = "Cloud Run job of each workload (retrain, daily), for `gcloud run jobs execute`."
  value       = { for name, job in google_cloud_run_v2_job.this : name => job.name }
}

output "service_accounts" {
  description = "E-mail of each workload's service account."
  value       = { for name, sa in data.google_service_account.workload : name => sa.email }
}

output "artifact_bucket" {
  description = "Bucket of the model artifacts (MOVIEREC_ARTIFACT_BUCKET)."
  value       = google_storage_bucket.artifacts.name
}

output "image_repository" {
  description = "Artifact Registry path to push the job image to (append /jobs:TAG)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "bigquery_dataset" {
  description = "BigQuery dataset of the exported events (MOVIEREC_BQ_DATASET)."
  value       = google_bigquery_dataset.events.dataset_id
}

output "firestore_database" {
  description = "Firestore database of the event log (MOVIEREC_FIRESTORE_DATABASE)."
  value       = google_firestore_database.events.name
}

output "retrain_job_name" {
  description = "Cloud Run job the retrain workflow starts: the GitHub variable GCP_RETRAIN_JOB."
  value       = google_cloud_run_v2_job.this["retrain"].name
}

output "deploy_service_account" {
  description = "Service account GitHub Actions deploys as: the GitHub variable GCP_DEPLOY_SERVICE_ACCOUNT."
  value       = data.google_service_account.workload["deploy"].email
}

output "mlflow_tracking_uri" {
  description = "Where the retrain job's MLflow runs are kept."
  value       = local.jobs["retrain"].env.MLFLOW_TRACKING_URI
}
