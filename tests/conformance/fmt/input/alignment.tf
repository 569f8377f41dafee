variable "region" {
type=string
    default =   "eu-west-1"
  description="Where the buckets live"
  nullable   =    false
}

resource "aws_s3_bucket" "assets" {
  bucket= "assets"
  tags = {
  Name="assets"
    LongerName = "m"
  }

  acl    =          "private"
  force_destroy = true
  object_lock_enabled=false
}

a = 1
bb = {
  c = 1
}
ddd = 2
eeee = 3
