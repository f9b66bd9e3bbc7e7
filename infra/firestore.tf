# Firestore (native mode): the event log of serving (experiments, assignments,
# impressions, feedback; field names in movierec/events.py).
#
# The queries of the code and the indexes that serve them:
#   <collection> where ts >= watermark order by ts   -> automatic single-field index on ts
#   feedback where request_id == X                   -> automatic single-field index
#   feedback where request_id == X order by ts       -> composite index below
#   feedback where user_id == X order by ts desc, __name__ desc limit N
#                         (serving's fold-in of a new user's recent feedback,
#                          EventLog.recent_feedback)   -> composite index feedback_by_user
# Point reads by document ID (assignments "{experiment}:{user_id}") need no index.

resource "google_firestore_database" "events" {
  project                           = var.project_id
  name                              = var.firestore_database
  location_id                       = local.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.deletion_protection ? "ABANDON" : "DELETE"

}

resource "google_firestore_index" "feedback_by_request" {
  project    = var.project_id
  database   = google_firestore_database.events.name
  collection = "feedback"

  fields {
    field_path = "request_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "ts"
    order      = "ASCENDING"
  }
}

# An equality on one field ordered by another needs a composite index (Firestore answers
# FAILED_PRECONDITION without one; the emulator does not check). The direction matches
# the query's; the trailing __name__ takes the direction of the last field.
resource "google_firestore_index" "feedback_by_user" {
  project    = var.project_id
  database   = google_firestore_database.events.name
  collection = "feedback"

  fields {
    field_path = "user_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "ts"
    order      = "DESCENDING"
  }
}

# The ranked lists are read whole, never queried: indexing each element of
# movie_ids/scores would cost ~20 index writes per impression for nothing.
resource "google_firestore_field" "unindexed" {
  for_each = toset(["movie_ids", "scores"])

  project    = var.project_id
  database   = google_firestore_database.events.name
  collection = "impressions"
  field      = each.key

  index_config {}
}

# Raw events expire once exported to BigQuery: movierec/stores/firestore.py writes
# `expire_at` (a timestamp, ts + MOVIEREC_EVENT_RETENTION_DAYS) on every assignment,
# impression and feedback document, and the TTL policy deletes each one, usually
# within 24 hours after that time (https://cloud.google.com/firestore/docs/ttl).
# Documents without the field (experiments) are kept. TTL on `ts` itself would delete
# them as soon as they are written.
resource "google_firestore_field" "ttl" {
  for_each = toset(["assignments", "impressions", "feedback"])

  project    = var.project_id
  database   = google_firestore_database.events.name
  collection = each.key
  field      = "expire_at"

  ttl_config {}
  index_config {}
}
