terraform { required_version = ">= 1.0" }
resource "null_resource" "a" {
}
locals {}
module "m" { source = "./m" }
block {
  z {}
  one_line { a = 1 }
  zz = 1
}
