

variable "a" {


  default = 1



}
variable "b" {

  default = 2
}



output "o" {
  value = var.a
}
