variable "x" {
type=string
  default   = "a"
}

b=2
