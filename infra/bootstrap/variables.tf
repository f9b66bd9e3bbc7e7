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
  description = "Region of the stack (the value infra/ gets as var.region)."
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the service accounts and the WIF pool; the same value as infra/'s name_prefix."
  default     = "movierec"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,13}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-15 lowercase letters, digits or hyphens, starting with a letter (service account IDs are at most 30 characters)."
  }
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (owner/name) whose Actions may deploy and start the retrain job through Workload Identity Federation."

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must be of the form owner/name."
  }
}

variable "github_deploy_ref" {
  type        = string
  description = "Git ref whose workflows may get Google credentials; other branches and pull requests get none."
  default     = "refs/heads/main"

  validation {
    condition     = can(regex("^refs/(heads|tags)/.+$", var.github_deploy_ref))
    error_message = "github_deploy_ref must be a full ref such as refs/heads/main."
  }
}
