# ---------------------------------------------------------------------------
# Where and what
# ---------------------------------------------------------------------------

variable "project_id" {
  type        = string
  description = "Google Cloud project that holds every movierec resource."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, jobs, scheduler, Artifact Registry and the artifact bucket."
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name and label value; change it to run two stacks in one project."
  default     = "movierec"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,13}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-15 lowercase letters, digits or hyphens, starting with a letter (service account IDs are at most 30 characters)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Extra labels put on every resource (cost centre, environment, ...)."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "labels keys must start with a lowercase letter; keys and values may hold lowercase letters, digits, '_' and '-' (at most 63 characters)."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the event stores (Firestore database, BigQuery tables) and jobs from `terraform destroy`. Turn off only for throw-away stacks."
  default     = true
}

# ---------------------------------------------------------------------------
# Application settings (become the MOVIEREC_* environment of the workloads)
# ---------------------------------------------------------------------------

variable "artifact_bucket_name" {
  type        = string
  description = "Name of the model artifact bucket (globally unique). Null: \"<project_id>-<name_prefix>-artifacts\"."
  default     = null

  validation {
    condition     = var.artifact_bucket_name == null || can(regex("^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "artifact_bucket_name must be a valid bucket name: 3-63 lowercase letters, digits, '-', '_' or '.'."
  }
}

variable "artifact_noncurrent_days" {
  type        = number
  description = "Days a replaced or deleted artifact object version is kept before it is deleted (model rollback window)."
  default     = 30

  validation {
    condition     = var.artifact_noncurrent_days >= 1 && var.artifact_noncurrent_days <= 3650 && floor(var.artifact_noncurrent_days) == var.artifact_noncurrent_days
    error_message = "artifact_noncurrent_days must be a whole number of days in [1, 3650]."
  }
}

variable "artifact_noncurrent_versions" {
  type        = number
  description = "Newer versions an artifact object keeps before older noncurrent versions are deleted."
  default     = 5

  validation {
    condition     = var.artifact_noncurrent_versions >= 1 && var.artifact_noncurrent_versions <= 100 && floor(var.artifact_noncurrent_versions) == var.artifact_noncurrent_versions
    error_message = "artifact_noncurrent_versions must be a whole number in [1, 100]."
  }
}

variable "firestore_database" {
  type        = string
  description = "Firestore database ID for the event log (MOVIEREC_FIRESTORE_DATABASE). \"(default)\" is the project's default database."
  default     = "(default)"

  validation {
    condition     = var.firestore_database == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database))
    error_message = "firestore_database must be \"(default)\" or 4-63 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "event_retention_days" {
  type        = number
  description = "Days an event document (assignment, impression, feedback) stays in Firestore before its TTL deletes it (MOVIEREC_EVENT_RETENTION_DAYS). The daily export has copied it to BigQuery long before."
  default     = 90

  validation {
    condition     = var.event_retention_days >= 2 && floor(var.event_retention_days) == var.event_retention_days
    error_message = "event_retention_days must be a whole number of days, at least 2 (the daily export must run before a document expires)."
  }
}

variable "firestore_location" {
  type        = string
  description = "Firestore location (a region such as europe-west1, or a multi-region such as eur3 / nam5). Null: the stack's region. Cannot change after creation."
  default     = null

  validation {
    condition     = var.firestore_location == null || can(regex("^([a-z]+-[a-z]+[0-9]|eur3|nam5|nam7)$", var.firestore_location))
    error_message = "firestore_location must be a region (europe-west1) or a Firestore multi-region (eur3, nam5, nam7)."
  }
}

variable "bigquery_dataset" {
  type        = string
  description = "BigQuery dataset ID of the exported events (MOVIEREC_BQ_DATASET)."
  default     = "movierec"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", var.bigquery_dataset))
    error_message = "bigquery_dataset may hold letters, digits and underscores only."
  }
}

variable "bigquery_location" {
  type        = string
  description = "BigQuery dataset location (EU, US or a region); null: var.region, with the bucket and Firestore, so no cross-region egress."
  default     = null

  validation {
    condition     = var.bigquery_location == null || can(regex("^(EU|US|[a-z]+-[a-z]+[0-9])$", var.bigquery_location))
    error_message = "bigquery_location must be EU, US or a region such as europe-west1."
  }
}

variable "default_model" {
  type        = string
  description = "Model served when no experiment applies (MOVIEREC_DEFAULT_MODEL)."
  default     = "svd"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,62}$", var.default_model))
    error_message = "default_model must be a model name such as svd or ease."
  }
}

variable "auth" {
  type        = string
  description = "Who the caller is (MOVIEREC_AUTH): none trusts user_id (a backend of yours calls the functions); firebase requires a Firebase Auth ID token of this project (README, Identity)."
  default     = "none"

  validation {
    condition     = contains(["none", "firebase"], var.auth)
    error_message = "auth must be none or firebase."
  }
}

variable "auth_check_revoked" {
  type        = bool
  description = "With auth = firebase, also ask Firebase Auth per request whether the session was revoked or the account disabled (MOVIEREC_AUTH_CHECK_REVOKED); the functions' accounts then need roles/firebaseauth.viewer."
  default     = false # ignored with auth = none (a validation naming var.auth needs Terraform 1.9)
}

variable "dataset" {
  type        = string
  description = "MovieLens dataset the retrain job trains on (MOVIEREC_DATASET)."
  default     = "ml-100k"

  validation {
    condition     = can(regex("^ml-[a-z0-9-]+$", var.dataset))
    error_message = "dataset must be a MovieLens dataset name such as ml-100k or ml-latest-small."
  }
}

variable "dataset_version" {
  type        = string
  description = "Published dataset version the retrain job trains on (MOVIEREC_DATASET_VERSION): \"validated\" (default) is the one the Retrain workflow last validated and published under datasets/ of the artifact bucket, checked against its sha256 manifest by the job; a 16-hex version pins one; null: the job downloads the official archive itself."
  default     = "validated"

  validation {
    condition     = var.dataset_version == null || can(regex("^(validated|[0-9a-f]{16})$", var.dataset_version))
    error_message = "dataset_version must be \"validated\", a 16-hex-digit version from `movierec data publish`, or null."
  }
}

variable "mlflow_tracking_uri" {
  type        = string
  description = "MLflow tracking server for the retrain job (MLFLOW_TRACKING_URI). Null: a SQLite store (mlflow.db, run files in mlartifacts/) under mlflow/ of the artifact bucket, mounted into the job with Cloud Storage FUSE, which survives the job."
  default     = null

  validation {
    condition     = var.mlflow_tracking_uri == null || can(regex("^(https?|databricks)://", var.mlflow_tracking_uri))
    error_message = "mlflow_tracking_uri must be a tracking server: http://, https:// or databricks:// (null: the SQLite store on the mounted bucket)."
  }
}

variable "alert_webhook_url" {
  type        = string
  description = "Slack-compatible webhook for A/B alerts, stored in Secret Manager (MOVIEREC_ALERT_WEBHOOK_URL). Null or empty: no webhook, alerts are only logged."
  default     = null
  sensitive   = true

  validation {
    condition     = var.alert_webhook_url == null || try(var.alert_webhook_url == "" || startswith(var.alert_webhook_url, "https://"), false)
    error_message = "alert_webhook_url must be an https:// URL (or empty for none)."
  }
}

# ---------------------------------------------------------------------------
# Build inputs
# ---------------------------------------------------------------------------

variable "function_source_zip" {
  type        = string
  description = "Path of the zip the functions are built from: `git archive --format=zip -o build/function-source.zip HEAD` (see README.md)."

  validation {
    condition     = endswith(var.function_source_zip, ".zip")
    error_message = "function_source_zip must be the path of a .zip file."
  }
}

variable "job_image" {
  type        = string
  description = "Container image of the Cloud Run jobs, e.g. europe-west1-docker.pkg.dev/PROJECT/movierec/jobs:GIT_SHA (built from the repo's Dockerfile)."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_.-]+|@sha256:[a-f0-9]{64})$", var.job_image))
    error_message = "job_image must be a full image reference with a tag or digest, e.g. europe-west1-docker.pkg.dev/my-project/movierec/jobs:0123abc."
  }

  validation {
    condition     = !endswith(var.job_image, ":latest")
    error_message = "job_image must not use the mutable :latest tag: pass the git SHA tag or a digest so a deploy is reproducible."
  }
}

# ---------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------

variable "recommend_invokers" {
  type        = list(string)
  description = "IAM members allowed to call the recommend function (roles/run.invoker). Empty: only principals with project-wide invoker rights. [\"allUsers\"] makes it public."
  default     = []

  validation {
    condition     = alltrue([for m in var.recommend_invokers : can(regex("^(allUsers|allAuthenticatedUsers|(user|group|serviceAccount|domain|principal|principalSet):.+)$", m))])
    error_message = "recommend_invokers must hold IAM members such as user:me@example.com, serviceAccount:x@p.iam.gserviceaccount.com or allUsers."
  }
}

variable "feedback_invokers" {
  type        = list(string)
  description = "IAM members allowed to call the feedback function (roles/run.invoker). Empty: only principals with project-wide invoker rights. [\"allUsers\"] makes it public (each event still needs the token issued with the recommendation)."
  default     = []

  validation {
    condition     = alltrue([for m in var.feedback_invokers : can(regex("^(allUsers|allAuthenticatedUsers|(user|group|serviceAccount|domain|principal|principalSet):.+)$", m))])
    error_message = "feedback_invokers must hold IAM members such as user:me@example.com, serviceAccount:x@p.iam.gserviceaccount.com or allUsers."
  }
}

variable "function_max_instances" {
  type        = number
  description = "Upper bound on instances of each function: caps cost under a traffic spike or abuse."
  default     = 10

  validation {
    condition     = var.function_max_instances >= 1 && var.function_max_instances <= 1000 && floor(var.function_max_instances) == var.function_max_instances
    error_message = "function_max_instances must be a whole number in [1, 1000]."
  }
}

variable "function_min_instances" {
  type        = number
  description = "Instances kept warm per function. 0 scales to zero when idle (first request pays a cold start of a few seconds); 1 costs roughly a small VM per function."
  default     = 0

  validation {
    condition     = var.function_min_instances >= 0 && var.function_min_instances <= 10 && floor(var.function_min_instances) == var.function_min_instances
    error_message = "function_min_instances must be a whole number in [0, 10]."
  }
}

# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------

variable "schedule_time_zone" {
  type        = string
  description = "IANA time zone of the cron schedules."
  default     = "Etc/UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.schedule_time_zone))
    error_message = "schedule_time_zone must be an IANA time zone such as Etc/UTC or Europe/Paris."
  }
}

variable "retrain_schedule" {
  type        = string
  description = "Cron schedule of the weekly retrain job (Cloud Scheduler)."
  default     = "0 3 * * 1"

  validation {
    condition     = length(split(" ", trimspace(var.retrain_schedule))) == 5
    error_message = "retrain_schedule must be a five-field cron expression such as \"0 3 * * 1\"."
  }
}

variable "retrain_scheduler_paused" {
  type        = bool
  description = "Keep the Cloud Scheduler retrain trigger paused because .github/workflows/retrain.yml drives retraining (it validates the data first). Set false to retrain from Cloud Scheduler alone; never run both, or the model is trained twice a week."
  default     = true
}

variable "daily_schedule" {
  type        = string
  description = "Cron schedule of the daily job that exports events to BigQuery and then writes the A/B report."
  default     = "30 2 * * *"

  validation {
    condition     = length(split(" ", trimspace(var.daily_schedule))) == 5
    error_message = "daily_schedule must be a five-field cron expression such as \"30 2 * * *\"."
  }
}

# ---------------------------------------------------------------------------
# Alerting
# ---------------------------------------------------------------------------

variable "alert_email" {
  type        = string
  description = "E-mail address that receives Cloud Monitoring alerts (a notification channel is created for it). Null: none."
  default     = null

  validation {
    condition     = var.alert_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address."
  }
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "Existing notification channels (projects/PROJECT/notificationChannels/ID) that receive every alert, besides alert_email."
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "alert_notification_channels must hold channel names of the form projects/PROJECT/notificationChannels/ID."
  }
}

variable "error_rate_threshold" {
  type        = number
  description = "Share of function requests logged at severity ERROR or above, over 5 minutes, that opens an incident."
  default     = 0.05

  validation {
    condition     = var.error_rate_threshold > 0 && var.error_rate_threshold < 1
    error_message = "error_rate_threshold must be a fraction in (0, 1)."
  }
}

variable "latency_p95_threshold_ms" {
  type        = number
  description = "95th percentile of the recommend latency (ms, as logged in latency_ms) over 5 minutes that opens an incident."
  default     = 500

  validation {
    condition     = var.latency_p95_threshold_ms > 0 && var.latency_p95_threshold_ms <= 60000
    error_message = "latency_p95_threshold_ms must be in (0, 60000]."
  }
}

variable "ctr_floor" {
  type        = number
  description = "Click-through rate of any variant below which the daily A/B report alerts (webhook, once per cool-down) and an incident opens; 0 disables."
  default     = 0.01

  validation {
    condition     = var.ctr_floor >= 0 && var.ctr_floor < 1
    error_message = "ctr_floor must be a fraction in [0, 1)."
  }
}
