terraform {
  required_version = ">= 1.5, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
  }

  # Same state bucket as infra/, its own prefix: `terraform init -backend-config="bucket=<state bucket>"`.
  backend "gcs" {
    prefix = "movierec/bootstrap"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
