resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
    dynamic "rule" {
      for_each = var.rules
      content {
        port = rule.value
      }
    }
  }
  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags]
  }
}
