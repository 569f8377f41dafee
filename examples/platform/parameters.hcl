# Runtime settings the services read from SSM Parameter Store at start.

resource "aws_ssm_parameter" "checkout_jobs_queue_url" {
  name        = "/acme/${env.name}/checkout/jobs-queue-url"
  description = "Where checkout sends its jobs"
  type        = "String"
  value       = aws_sqs_queue.checkout_jobs.url
  tags        = local.tags
}

resource "aws_ssm_parameter" "payments_endpoint" {
  name  = "/acme/${env.name}/payments/psp-endpoint"
  type  = "String"
  value = env.name == "prod" ? "https://api.psp.example.com" : "https://sandbox.psp.example.com"
  tags  = local.tags
}

# The one secret: masked as (sensitive) in plans, PR comments, JSON and `braid show`.
resource "aws_ssm_parameter" "payments_api_key" {
  name        = "/acme/${env.name}/payments/api-key"
  description = "The payment service provider's API key"
  type        = "SecureString"
  value       = var.payments_api_key
  tags        = local.tags
}
