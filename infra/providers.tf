provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge({ app = var.name_prefix, managed-by = "terraform" }, var.labels)
}

data "google_project" "this" {
  project_id = var.project_id
}
