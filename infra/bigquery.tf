# BigQuery: the warehouse the daily job exports events to and the A/B report reads.
# Schemas live in schemas/*.json, one file per table, field for field the events of
# movierec/events.py (ts as TIMESTAMP).

locals {
  # Event tables are partitioned by day on ts (queries name a date range, so they
  # scan only those days) and clustered by experiment (the report groups by it).
  event_tables = toset(["assignments", "impressions", "feedback"])
}

resource "google_bigquery_dataset" "events" {
  #checkov:skip=CKV_GCP_81:Exported events hold pseudonymous IDs only; Google-managed encryption is enough and CMEK would add a KMS key to run and pay for.
  project       = var.project_id
  dataset_id    = var.bigquery_dataset
  friendly_name = "movierec events"
  description   = "Impressions, feedback and assignments exported from Firestore, for the A/B analysis"
  location      = local.bigquery_location

  delete_contents_on_destroy = !var.deletion_protection

}

resource "google_bigquery_table" "events" {
  #checkov:skip=CKV_GCP_80:Same as the dataset: Google-managed encryption, no CMEK.
  for_each = local.event_tables

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.events.dataset_id
  table_id            = each.key
  description         = "movierec ${each.key}, one row per event"
  schema              = file("${path.module}/schemas/${each.key}.json")
  deletion_protection = var.deletion_protection

  time_partitioning {
    type  = "DAY"
    field = "ts"
  }

  clustering = ["experiment_id"]
}

resource "google_bigquery_table" "export_watermarks" {
  #checkov:skip=CKV_GCP_80:Same as the dataset: Google-managed encryption, no CMEK.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.events.dataset_id
  table_id            = "export_watermarks"
  description         = "Per table, the largest ts already exported (the export resumes from it)"
  schema              = file("${path.module}/schemas/export_watermarks.json")
  deletion_protection = var.deletion_protection
}

# Small tables the export and the report keep beside the events: experiment
# definitions (re-exported in full each run), the alerts already sent (cool-down), and
# users' rating history from before any logged traffic (a CUPED covariate).
resource "google_bigquery_table" "support" {
  #checkov:skip=CKV_GCP_80:Same as the dataset: Google-managed encryption, no CMEK.
  for_each = toset(["experiments", "alerts", "rating_history"])

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.events.dataset_id
  table_id            = each.key
  description         = "movierec ${each.key}"
  schema              = file("${path.module}/schemas/${each.key}.json")
  deletion_protection = var.deletion_protection
}
