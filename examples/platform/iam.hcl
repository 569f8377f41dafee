# IAM roles for service accounts (IRSA): the pods of checkout and payments get AWS
# credentials through their Kubernetes ServiceAccount, whose annotation
# eks.amazonaws.com/role-arn (in the deployment repo) receives these roles' ARNs.

locals {
  oidc_provider_arn = "arn:aws:iam::${var.aws_account_id}:oidc-provider/${var.eks_oidc_provider}"
}

# --- checkout: sends and receives jobs, reads assets ---------------------------------------

resource "aws_iam_role" "checkout" {
  name        = "${local.prefix}-checkout"
  description = "checkout pods (IRSA, ServiceAccount ${local.namespace}/checkout)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${var.eks_oidc_provider}:sub" = "system:serviceaccount:${local.namespace}:checkout"
          "${var.eks_oidc_provider}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
  tags = merge(local.tags, { team = "checkout" })
}

resource "aws_iam_policy" "checkout" {
  name = "${local.prefix}-checkout"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource = aws_sqs_queue.checkout_jobs.arn
      },
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${aws_s3_bucket.assets.arn}/*"
      },
    ]
  })
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "checkout" {
  role       = aws_iam_role.checkout.name
  policy_arn = aws_iam_policy.checkout.arn
}

# --- payments: reads its own parameters -----------------------------------------------------

resource "aws_iam_role" "payments" {
  name        = "${local.prefix}-payments"
  description = "payments pods (IRSA, ServiceAccount ${local.namespace}/payments)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${var.eks_oidc_provider}:sub" = "system:serviceaccount:${local.namespace}:payments"
          "${var.eks_oidc_provider}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
  tags = merge(local.tags, { team = "payments" })
}

resource "aws_iam_policy" "payments" {
  name = "${local.prefix}-payments"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ssm:GetParameter", "ssm:GetParameters"]
      Resource = [aws_ssm_parameter.payments_api_key.arn, aws_ssm_parameter.payments_endpoint.arn]
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "payments" {
  role       = aws_iam_role.payments.name
  policy_arn = aws_iam_policy.payments.arn
}
