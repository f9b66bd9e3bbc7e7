# Secret Manager: the key that signs feedback tokens and the alert webhook URL.

resource "google_secret_manager_secret" "this" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = each.value

  replication {
    auto {}
  }

}

# The token key is random and lives only in Secret Manager (and the state bucket,
# which is private). Rotate it with `terraform apply -replace=random_password.token_secret`:
# tokens issued before the rotation then stop validating, as they should.
resource "random_password" "token_secret" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret_version" "token" {
  secret      = google_secret_manager_secret.this["token"].id
  secret_data = random_password.token_secret.result
}

resource "google_secret_manager_secret_version" "alert_webhook_url" {
  count = local.alert_webhook_enabled ? 1 : 0

  secret      = google_secret_manager_secret.this["alert-webhook-url"].id
  secret_data = var.alert_webhook_url
}
