variable "a" {
  type = string
}
variable "b" {
  type    = list(string)
  default = []
}
variable "c" {
  type = map(string)
}
variable "d" {
  type = list(string)
}
variable "e" {
  type = "${string}"
}
locals {
  type = "string"
}
