# Cloud Run jobs (one image, built from the Dockerfile at the repository root) and
# the Cloud Scheduler triggers that start them.

resource "google_cloud_run_v2_job" "this" {
  for_each = local.jobs

  project             = var.project_id
  name                = "${var.name_prefix}-${each.key}"
  location            = var.region
  deletion_protection = var.deletion_protection
  launch_stage        = "GA"

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = data.google_service_account.workload[each.value.service_account].email
      timeout         = each.value.timeout
      max_retries     = 1

      # Cloud Storage volume mounts need the second generation execution environment.
      execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

      # The mlflow/ prefix of the artifact bucket (gcsfuse only-dir: the job sees nothing
      # else through the mount, and its IAM condition lets it write only there). FUSE
      # gives no file locking across machines: one writer at a time, which the retrain
      # job is (one task, the workflow's concurrency group, the Scheduler trigger paused).
      dynamic "volumes" {
        for_each = each.value.mounts_mlflow ? [1] : []
        content {
          name = "mlflow"
          gcs {
            bucket        = google_storage_bucket.artifacts.name
            read_only     = false
            mount_options = ["only-dir=${local.mlflow_prefix}", "implicit-dirs"]
          }
        }
      }

      containers {
        image   = var.job_image
        command = each.value.command
        args    = each.value.args

        resources {
          limits = {
            cpu    = each.value.cpu
            memory = each.value.memory
          }
        }

        # Where MLFLOW_TRACKING_URI's SQLite file lives: runs survive the job and are read
        # from a copy (`gcloud storage cp -r gs://<bucket>/mlflow .`, infra/README.md, "MLflow").
        dynamic "volume_mounts" {
          for_each = each.value.mounts_mlflow ? [1] : []
          content {
            name       = "mlflow"
            mount_path = local.mlflow_mount
          }
        }

        dynamic "env" {
          for_each = { for name, value in merge(local.common_env, each.value.env) : name => value if value != null }
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = local.secret_env_of[each.key]
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = google_secret_manager_secret.this[env.value].secret_id
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.accessor,
    google_storage_bucket_iam_member.artifact_writers,
  ]
}

resource "google_cloud_scheduler_job" "this" {
  for_each = local.jobs

  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}-${each.key}"
  description = "Starts the ${google_cloud_run_v2_job.this[each.key].name} job: ${each.value.description}"
  schedule    = each.value.schedule
  time_zone   = var.schedule_time_zone
  paused      = each.value.paused

  # A missed start is retried; a job that ran is not started twice by Scheduler.
  attempt_deadline = "320s"
  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/${google_cloud_run_v2_job.this[each.key].id}:run"

    oauth_token {
      service_account_email = data.google_service_account.workload["scheduler"].email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_invoker]
}
