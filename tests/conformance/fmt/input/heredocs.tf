locals {
h = <<EOT
   keep   this   text
  exactly ${var.x}
EOT
  h2 = <<-EOT
      indented
    EOT
    policy = jsonencode({
  a = 1
    })
  after = "x"
}
resource "local_file" "f" {
      content = <<-EOF
    line one
      line two
    EOF
  filename="f.txt"
}
locals {
  seq = <<-EOT
    x ${ var.y } z $${ kept } %{ if a }b%{ endif }
    ${ lookup( var.m, "k" ) }
  EOT
}
