output "assets_bucket" {
  value       = aws_s3_bucket.assets.bucket
  description = "Bucket the web pipeline uploads static assets to"
}

output "checkout_jobs_queue_url" {
  value = aws_sqs_queue.checkout_jobs.url
}

output "checkout_role_arn" {
  value = aws_iam_role.checkout.arn
}

output "payments_role_arn" {
  value = aws_iam_role.payments.arn
}

output "image_repositories" {
  value = {
    web      = aws_ecr_repository.web.repository_url
    checkout = aws_ecr_repository.checkout.repository_url
    payments = aws_ecr_repository.payments.repository_url
  }
  description = "Where CI pushes each service's images"
}
