output "service_accounts" {
  description = "E-mail of each workload's service account."
  value       = { for name, sa in google_service_account.workload : name => sa.email }
}

output "github_variables" {
  description = "The GitHub repository variables the workflows read (Settings > Secrets and variables > Actions > Variables)."
  value = {
    GCP_PROJECT_ID                 = var.project_id
    GCP_REGION                     = var.region
    GCP_WORKLOAD_IDENTITY_PROVIDER = google_iam_workload_identity_pool_provider.github.name
    GCP_DEPLOY_SERVICE_ACCOUNT     = google_service_account.workload["deploy"].email
    GCP_RETRAIN_SERVICE_ACCOUNT    = google_service_account.workload["dispatch"].email
    # infra/ names its jobs "<name_prefix>-<job>"; its output retrain_job_name is the same.
    GCP_RETRAIN_JOB = "${var.name_prefix}-retrain"
    # infra/'s artifact bucket unless its artifact_bucket_name says otherwise (then use
    # `terraform output -raw artifact_bucket` of infra/): where the workflow publishes datasets.
    GCP_ARTIFACT_BUCKET = "${var.project_id}-${var.name_prefix}-artifacts"
  }
}
