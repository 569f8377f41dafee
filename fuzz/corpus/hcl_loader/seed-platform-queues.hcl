# Checkout hands orders to a worker through a queue; messages that fail five times go to a
# dead-letter queue that someone looks at.

resource "aws_sqs_queue" "checkout_jobs_dlq" {
  name                      = "${local.prefix}-checkout-jobs-dlq"
  message_retention_seconds = 1209600   # 14 days, the maximum
  tags                      = merge(local.tags, { team = "checkout" })
}

resource "aws_sqs_queue" "checkout_jobs" {
  name                       = "${local.prefix}-checkout-jobs"
  visibility_timeout_seconds = 60
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.checkout_jobs_dlq.arn
    maxReceiveCount     = 5
  })
  tags = merge(local.tags, { team = "checkout" })
}
