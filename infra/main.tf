# Locals shared by every file: the workloads, their identities and their environment.
# The names of the environment variables are the ones movierec/settings.py reads
# (Settings.from_env); tests/infra checks that the two stay in step.

locals {
  artifact_bucket_name = coalesce(var.artifact_bucket_name, "${var.project_id}-${var.name_prefix}-artifacts")
  firestore_location   = coalesce(var.firestore_location, var.region)
  # CI passes an unset GitHub secret as "": treat it as no webhook. Whether a webhook
  # is set is no secret (count/for_each refuse sensitive values); its URL is.
  alert_webhook_enabled = nonsensitive(var.alert_webhook_url != null && var.alert_webhook_url != "")

  apis = toset([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
  ])

  # One identity per workload, so that a leaked token of one reaches only what that
  # workload needs.
  service_accounts = {
    recommend = "Runs the recommend function"
    feedback  = "Runs the feedback function"
    retrain   = "Runs the weekly retrain job"
    daily     = "Runs the daily export + A/B report job"
    scheduler = "Cloud Scheduler: starts the jobs"
    build     = "Cloud Build: builds the functions from source"
    deploy    = "GitHub Actions deploy (Workload Identity Federation)"
  }

  # Project-level roles; everything that can be granted on a single resource is
  # granted there instead (iam.tf). Firestore has no per-collection IAM.
  project_roles = {
    recommend = ["roles/datastore.user"]
    feedback  = ["roles/datastore.user"]
    retrain   = ["roles/datastore.viewer"]
    daily     = ["roles/datastore.viewer", "roles/bigquery.jobUser"]
    build     = ["roles/logging.logWriter", "roles/artifactregistry.writer"]
    # What `terraform apply` of this folder needs, and no basic role (owner/editor).
    deploy = [
      "roles/artifactregistry.admin",
      "roles/bigquery.admin",
      "roles/cloudfunctions.admin",
      "roles/cloudscheduler.admin",
      "roles/datastore.owner",
      "roles/iam.serviceAccountAdmin",
      "roles/iam.workloadIdentityPoolAdmin",
      "roles/logging.configWriter",
      "roles/monitoring.alertPolicyEditor",
      "roles/monitoring.notificationChannelEditor",
      "roles/resourcemanager.projectIamAdmin",
      "roles/run.admin",
      "roles/secretmanager.admin",
      "roles/serviceusage.serviceUsageAdmin",
      "roles/storage.admin",
    ]
  }

  project_role_bindings = {
    for pair in flatten([
      for sa, roles in local.project_roles : [for role in roles : { sa = sa, role = role }]
    ]) : "${pair.sa}/${pair.role}" => pair
  }

  # Secrets: key -> Secret Manager secret ID. Their values never pass through a
  # developer: the token key is generated here, the webhook URL is a sensitive variable.
  secrets = {
    token             = "${var.name_prefix}-token-secret"
    alert-webhook-url = "${var.name_prefix}-alert-webhook-url"
  }
  secret_values_present = {
    token             = true
    alert-webhook-url = local.alert_webhook_enabled
  }

  # Environment shared by the functions and the jobs (plain values).
  common_env = {
    MOVIEREC_BACKEND            = "gcp"
    GOOGLE_CLOUD_PROJECT        = var.project_id
    MOVIEREC_ARTIFACT_BUCKET    = google_storage_bucket.artifacts.name
    MOVIEREC_FIRESTORE_DATABASE = google_firestore_database.events.name
    MOVIEREC_BQ_DATASET         = google_bigquery_dataset.events.dataset_id
    MOVIEREC_DEFAULT_MODEL      = var.default_model
  }

  # Environment read from Secret Manager: variable name -> key of local.secrets.
  # Settings.from_env refuses MOVIEREC_BACKEND=gcp without the token secret, so the
  # jobs get it too even though only the functions sign tokens.
  secret_env = {
    MOVIEREC_TOKEN_SECRET      = "token"
    MOVIEREC_ALERT_WEBHOOK_URL = "alert-webhook-url"
  }
  # A secret without a version cannot be mounted: the webhook is wired only once set.
  active_secret_env = { for name, key in local.secret_env : name => key if local.secret_values_present[key] }

  functions = {
    recommend = {
      entry_point     = "recommend"
      description     = "GET/POST /recommend (and ?health=1): ranked movies for a user, A/B assigned"
      memory          = "1Gi"
      cpu             = "1"
      concurrency     = 8
      timeout_seconds = 30
      service_account = "recommend"
      invokers        = var.recommend_invokers
    }
    feedback = {
      entry_point     = "feedback"
      description     = "POST /feedback: clicks and ratings on recommended movies"
      memory          = "512Mi"
      cpu             = "1"
      concurrency     = 16
      timeout_seconds = 30
      service_account = "feedback"
      invokers        = var.feedback_invokers
    }
  }

  jobs = {
    retrain = {
      description     = "Retrains the models and publishes a new artifact version"
      command         = []
      args            = ["retrain"]
      cpu             = "2"
      memory          = "4Gi"
      timeout         = "3600s"
      service_account = "retrain"
      schedule        = var.retrain_schedule
      paused          = var.retrain_scheduler_paused
      env = {
        MOVIEREC_DATASET    = var.dataset
        MLFLOW_TRACKING_URI = var.mlflow_tracking_uri
      }
    }
    daily = {
      description = "Exports new events to BigQuery, writes the A/B report (+ CTR alerts), checks drift"
      # One execution runs the steps in order, so the report always sees the export it follows.
      command         = []
      args            = ["daily"]
      cpu             = "1"
      memory          = "2Gi"
      timeout         = "1800s"
      service_account = "daily"
      schedule        = var.daily_schedule
      paused          = false
      env = {
        MOVIEREC_DATASET = var.dataset
        # The report's CTR-floor alert goes through the one Alerter (cool-down, alerts table).
        MOVIEREC_CTR_ALERT_FLOOR = tostring(var.ctr_floor)
      }
    }
  }

  job_service_accounts = toset([for job in values(local.jobs) : job.service_account])
  runtime_service_accounts = concat(
    [for fn in values(local.functions) : fn.service_account],
    tolist(local.job_service_accounts),
  )

  notification_channels = concat(
    var.alert_notification_channels,
    [for channel in google_monitoring_notification_channel.email : channel.id],
  )
}

resource "google_project_service" "apis" {
  for_each = local.apis

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
