# Cloud Storage (model artifacts, function source) and Artifact Registry (job image).

resource "google_storage_bucket" "artifacts" {
  #checkov:skip=CKV_GCP_62:Access is audited by Cloud Audit Logs: Data Access logs for Cloud Storage are enabled in infra/bootstrap (google_project_iam_audit_config.storage); a second log bucket would only duplicate them.
  project                     = var.project_id
  name                        = local.artifact_bucket_name
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Every published model version stays recoverable: `movierec model rollback`
  # repoints the manifest, and object versioning protects against overwrites.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.artifact_noncurrent_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      num_newer_versions = var.artifact_noncurrent_versions
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

}

# Source zips of the functions: one object per content hash, read once by Cloud Build.
resource "google_storage_bucket" "function_source" {
  #checkov:skip=CKV_GCP_62:Holds only the zip of the public source tree; Cloud Audit Logs record access.
  #checkov:skip=CKV_GCP_78:Objects are content-addressed (named by their MD5) and never overwritten, so versions would never exist.
  project                     = var.project_id
  name                        = "${local.artifact_bucket_name}-source"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    # A built function keeps its image; the zip is needed only while it builds.
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

}

resource "google_storage_bucket_object" "function_source" {
  name   = "functions/${filemd5(var.function_source_zip)}.zip"
  bucket = google_storage_bucket.function_source.name
  source = var.function_source_zip
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Images hold public code only; Google-managed encryption is enough and a CMEK key would add KMS cost and key custody.
  project       = var.project_id
  location      = var.region
  repository_id = var.name_prefix
  description   = "Container images of the movierec jobs"
  format        = "DOCKER"

  docker_config {
    immutable_tags = true
  }

  # Keep the images a rollback may need, drop the rest: storage is the only idle cost here.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }

}

# The functions' build images (Cloud Build of the functions writes here and nowhere else).
resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:Images hold public code only; Google-managed encryption is enough and a CMEK key would add KMS cost and key custody.
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "Build images of the movierec functions"
  format        = "DOCKER"

  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }
}
