terraform {
  # 1.5 brings `check` blocks and `import` blocks; nothing newer is needed.
  required_version = ">= 1.5, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State lives in a bucket made once by hand (see README.md, "One-time set-up");
  # pass it with `terraform init -backend-config="bucket=<state bucket>"`.
  backend "gcs" {
    prefix = "movierec/state"
  }
}
