variable "a" {
  type = "string"
}
variable "b" {
  type    =   "list"
  default = []
}
variable "c" {
  type = "map"
}
variable "d" {
  type = list( string )
}
variable "e" {
  type = "${string}"
}
locals {
  type = "string"
}
