# Static assets of the web front end: one bucket per environment, readable by everyone
# (a CDN sits in front of it), written by the CI pipeline of the web service.

resource "aws_s3_bucket" "assets" {
  bucket = "${local.prefix}-assets"
  versioning {
    enabled = true
  }
  force_destroy = env.name != "prod"   # never empty prod's bucket on destroy
  tags          = merge(local.tags, { team = "web" })
}

resource "aws_s3_bucket_policy" "assets" {
  bucket = aws_s3_bucket.assets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PublicRead"
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.assets.arn}/*"
    }]
  })
}
