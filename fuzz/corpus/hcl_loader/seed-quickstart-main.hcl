variable "greeting" {
  type        = string
  description = "What the message of the day says"
}

variable "replicas" {
  type    = number
  default = 1
}

variable "api_token" {
  type      = string
  default   = "not-a-real-token"
  sensitive = true
}

locals {
  service = "checkout"
  labels  = { app = local.service, env = env.name }
}

resource "local_value" "release" {
  input = {
    service  = local.service
    replicas = var.replicas
    labels   = local.labels
  }
}

resource "local_file" "motd" {
  filename = "out/${env.name}/motd.txt"
  content  = "${upper(var.greeting)} from ${local.service} (release ${local_value.release.id})\n"
}

resource "local_file" "config" {
  filename        = "out/${env.name}/config.json"
  file_permission = "0600"
  content = jsonencode({
    service  = local.service
    replicas = var.replicas
    token    = var.api_token
    motd     = local_file.motd.filename
  })
}

output "motd_file" {
  value = local_file.motd.filename
}

output "release_id" {
  value = local_value.release.id
}
