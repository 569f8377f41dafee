# Inputs. Per-environment values are set in braid.hcl (environment "…" { variables = … });
# secrets come from the process environment: BRAID_VAR_payments_api_key=… (a CI secret).

variable "aws_account_id" {
  type        = string
  description = "The AWS account the environment lives in"
}

variable "eks_oidc_provider" {
  type        = string
  description = "The EKS cluster's OIDC issuer without https://, for IRSA trust policies"
}

variable "domain" {
  type        = string
  description = "Public domain of the shop in this environment"
}

variable "payments_api_key" {
  type        = string
  description = "The payment service provider's API key (set BRAID_VAR_payments_api_key)"
  sensitive   = true
}

locals {
  prefix    = "acme-${env.name}"
  namespace = "shop"
  tags = {
    project     = "shop"
    environment = env.name
    managed-by  = "braid"
  }
}
