# Locals shared by every file: the workloads, their identities and their environment.
# The names of the environment variables are the ones movierec/settings.py reads
# (Settings.from_env); tests/infra checks that the two stay in step.

locals {
  artifact_bucket_name = coalesce(var.artifact_bucket_name, "${var.project_id}-${var.name_prefix}-artifacts")
  firestore_location   = coalesce(var.firestore_location, var.region)
  # BigQuery in the stack's region unless told otherwise: no cross-region egress.
  bigquery_location = coalesce(var.bigquery_location, var.region)
  # The retrain job's MLflow store: the artifact bucket's mlflow/ prefix (and only that:
  # gcsfuse only-dir), mounted with Cloud Storage FUSE, so runs outlive the job.
  mlflow_prefix = "mlflow"
  mlflow_mount  = "/mnt/mlflow"
  # CI passes an unset GitHub secret as "": treat it as no webhook. Whether a webhook
  # is set is no secret (count/for_each refuse sensitive values); its URL is.
  alert_webhook_enabled = nonsensitive(var.alert_webhook_url != null && var.alert_webhook_url != "")

  # The workloads' identities, created by infra/bootstrap (applied once by a project
  # owner) as "<name_prefix>-<key>"; this folder only reads them (iam.tf).
  service_accounts = toset(["recommend", "feedback", "retrain", "daily", "scheduler", "build", "deploy", "dispatch"])

  # Objects of the artifact bucket by prefix, and who touches them (the code paths:
  # serving.models reads models/; retraining publishes models/, writes runs/ and
  # retraining/signals/ and its MLflow store under mlflow/, and reads the validated
  # dataset under datasets/; reporting.drift reads the popularity model and writes
  # reports/drift/; the Retrain workflow publishes the dataset it validated, datasets/).
  bucket_readers = {
    recommend = ["models/"]
    daily     = ["models/"]
    retrain   = ["datasets/"]
  }
  bucket_writers = {
    retrain  = ["models/", "runs/", "retraining/", "mlflow/"]
    daily    = ["reports/"]
    dispatch = ["datasets/"]
  }

  # Which secret each workload reads (key of local.secrets); nobody reads another's.
  secret_readers = {
    recommend = ["token"]
    feedback  = ["token"]
    daily     = ["alert-webhook-url"]
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

  # Environment read from Secret Manager: variable name -> key of local.secrets. Each
  # workload mounts only the secrets of local.secret_readers (only the functions sign
  # tokens; only the daily job alerts).
  secret_env = {
    MOVIEREC_TOKEN_SECRET      = "token"
    MOVIEREC_ALERT_WEBHOOK_URL = "alert-webhook-url"
  }
  # A secret without a version cannot be mounted: the webhook is wired only once set.
  active_secret_env = { for name, key in local.secret_env : name => key if local.secret_values_present[key] }
  secret_env_of = {
    for workload in ["recommend", "feedback", "retrain", "daily"] : workload => {
      for name, key in local.active_secret_env : name => key if contains(lookup(local.secret_readers, workload, []), key)
    }
  }

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
      mounts_mlflow   = var.mlflow_tracking_uri == null
      env = {
        MOVIEREC_DATASET = var.dataset
        # Train on the version the Retrain workflow validated and published (datasets/),
        # re-checked against its sha256 manifest before training.
        MOVIEREC_DATASET_VERSION = var.dataset_version
        # A tracking server of your own, or a SQLite file on the mounted mlflow/ prefix
        # (run files beside it, in mlartifacts/: Settings.mlflow_artifacts). MLflow 3
        # refuses its file store ("maintenance mode"), so the store is SQLite.
        MLFLOW_TRACKING_URI = coalesce(var.mlflow_tracking_uri, "sqlite:///${local.mlflow_mount}/mlflow.db")
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
      mounts_mlflow   = false
      env = {
        MOVIEREC_DATASET = var.dataset
        # The report's CTR-floor alert goes through the one Alerter (cool-down, alerts table).
        MOVIEREC_CTR_ALERT_FLOOR = tostring(var.ctr_floor)
      }
    }
  }


  notification_channels = concat(
    var.alert_notification_channels,
    [for channel in google_monitoring_notification_channel.email : channel.id],
  )
}
