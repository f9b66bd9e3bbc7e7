# Cloud Run functions (2nd gen), built by Cloud Build from the repository's source
# zip; the entry points are in functions/main.py.

resource "google_cloudfunctions2_function" "this" {
  #checkov:skip=CKV_GCP_124:Clients call the HTTP API from the internet; who may call it is decided by IAM (roles/run.invoker, authenticated by default), not by network ingress.
  for_each = local.functions

  project     = var.project_id
  name        = "${var.name_prefix}-${each.key}"
  location    = var.region
  description = each.value.description

  build_config {
    runtime         = "python311"
    entry_point     = each.value.entry_point
    service_account = data.google_service_account.workload["build"].id
    # Images go to the functions' own repository, the only one the build account may write.
    docker_repository = google_artifact_registry_repository.functions.id
    environment_variables = {
      # The source zip (scripts/build_function_source.py) holds the serving files only:
      # requirements.txt (= requirements-serving.txt), movierec/ (the modules serving
      # imports) and functions/main.py, where the functions are.
      GOOGLE_FUNCTION_SOURCE = "functions/main.py"
    }

    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.function_source.name
      }
    }
  }

  service_config {
    service_account_email            = data.google_service_account.workload[each.value.service_account].email
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    timeout_seconds                  = each.value.timeout_seconds
    min_instance_count               = var.function_min_instances
    max_instance_count               = var.function_max_instances
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true

    environment_variables = merge(local.common_env, {
      # The buildpack puts the source in /workspace; movierec/ is imported from there.
      PYTHONPATH = "/workspace"
      # The functions write the events; each document expires this many days after it.
      MOVIEREC_EVENT_RETENTION_DAYS = tostring(var.event_retention_days)
      # Identity: none (user_id trusted) or firebase (ID tokens, users/{uid} links).
      MOVIEREC_AUTH               = var.auth
      MOVIEREC_AUTH_CHECK_REVOKED = tostring(var.auth_check_revoked)
    })

    dynamic "secret_environment_variables" {
      for_each = local.secret_env_of[each.key]
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.this[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.accessor,
    google_secret_manager_secret_version.token,
    google_storage_bucket_iam_member.build_source,
    google_artifact_registry_repository_iam_member.build_writer,
  ]
}
