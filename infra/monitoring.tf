# Log-based metrics and alert policies. They read the structured (JSON) logs the
# code writes: the functions log one line per request with jsonPayload fields
# latency_ms, variant and model_version (and severity); the daily report logs one
# line per variant with jsonPayload.event = "ab_report" and jsonPayload.ctr.

locals {
  function_services = join(" OR ", [for fn in keys(local.functions) : "\"${var.name_prefix}-${fn}\""])
  function_log_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${local.function_services})",
    "jsonPayload.latency_ms:*",
  ])
}

resource "google_logging_metric" "requests" {
  project     = var.project_id
  name        = "${var.name_prefix}/requests"
  description = "Requests served by the functions (one structured log line each)"
  filter      = local.function_log_filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key        = "service"
      value_type = "STRING"
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
}

resource "google_logging_metric" "errors" {
  project     = var.project_id
  name        = "${var.name_prefix}/errors"
  description = "Function requests logged at severity ERROR or above"
  filter      = "${local.function_log_filter} AND severity>=ERROR"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key        = "service"
      value_type = "STRING"
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
}

resource "google_logging_metric" "latency" {
  project         = var.project_id
  name            = "${var.name_prefix}/latency"
  description     = "Server-side latency of each function request (jsonPayload.latency_ms)"
  filter          = local.function_log_filter
  value_extractor = "EXTRACT(jsonPayload.latency_ms)"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "ms"
    labels {
      key        = "service"
      value_type = "STRING"
    }
    labels {
      key        = "variant"
      value_type = "STRING"
    }
    labels {
      key        = "model_version"
      value_type = "STRING"
    }
  }
  label_extractors = {
    service       = "EXTRACT(resource.labels.service_name)"
    variant       = "EXTRACT(jsonPayload.variant)"
    model_version = "EXTRACT(jsonPayload.model_version)"
  }

  # 1 ms .. ~33 s in 16 doubling buckets.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 16
      growth_factor      = 2
      scale              = 1
    }
  }
}

resource "google_logging_metric" "ctr" {
  project         = var.project_id
  name            = "${var.name_prefix}/ab_ctr"
  description     = "Click-through rate per experiment variant, from the daily A/B report"
  filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${var.name_prefix}-daily\" AND jsonPayload.event=\"ab_report\" AND jsonPayload.ctr:*"
  value_extractor = "EXTRACT(jsonPayload.ctr)"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "1"
    labels {
      key        = "experiment_id"
      value_type = "STRING"
    }
    labels {
      key        = "variant"
      value_type = "STRING"
    }
  }
  label_extractors = {
    experiment_id = "EXTRACT(jsonPayload.experiment_id)"
    variant       = "EXTRACT(jsonPayload.variant)"
  }

  bucket_options {
    linear_buckets {
      num_finite_buckets = 100
      width              = 0.01
      offset             = 0
    }
  }
}

resource "google_monitoring_notification_channel" "email" {
  for_each = var.alert_email == null ? toset([]) : toset([var.alert_email])

  project      = var.project_id
  display_name = "${var.name_prefix} alerts (${each.key})"
  type         = "email"
  labels = {
    email_address = each.key
  }
}

resource "google_monitoring_alert_policy" "error_rate" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: function error rate above ${var.error_rate_threshold * 100}%"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "errors / requests over 5 min"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.errors.name}\""
      denominator_filter = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.requests.name}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_rate_threshold
      duration           = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.error_rate_threshold * 100}% of requests to a movierec function were logged as errors. Look at the function's logs; roll back with infra/README.md#roll-back."
  }
}

resource "google_monitoring_alert_policy" "latency_p95" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: recommend p95 latency above ${var.latency_p95_threshold_ms} ms"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "p95 of latency_ms over 5 min"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.latency.name}\" AND metric.label.service=\"${var.name_prefix}-recommend\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.latency_p95_threshold_ms
      duration        = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["metric.label.service"]
      }
      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The 95th percentile of recommend latency exceeded ${var.latency_p95_threshold_ms} ms for 5 minutes. Check cold starts (function_min_instances), the model version just rolled out, and Firestore latency."
  }
}

resource "google_monitoring_alert_policy" "ctr_floor" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: variant CTR below ${var.ctr_floor}"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "CTR of a variant in the daily A/B report"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.ctr.name}\""
      comparison      = "COMPARISON_LT"
      threshold_value = var.ctr_floor
      duration        = "0s"

      # The report is logged once a day: align over a day so each report is one point.
      aggregations {
        alignment_period     = "86400s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_MEAN"
        group_by_fields      = ["metric.label.experiment_id", "metric.label.variant"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "172800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A variant's click-through rate fell below ${var.ctr_floor} in the daily A/B report. Read the report in the artifact bucket; stop the experiment or roll the model back (`movierec model rollback`)."
  }
}

# The dashboard of the metrics above (and Cloud Run's built-in instance count), kept as
# a file so it can also be imported by hand; "${name_prefix}" in it is the metric and
# service name prefix. tests/infra/test_monitoring.py checks that every chart reads a
# metric defined here (or a built-in one) with labels it has.
resource "google_monitoring_dashboard" "serving" {
  project        = var.project_id
  dashboard_json = replace(file("${path.module}/../monitoring/cloud-monitoring/movierec.json"), "$${name_prefix}", var.name_prefix)
}
