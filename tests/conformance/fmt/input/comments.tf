# A leading comment
   // another style
variable "x" {
  default = 1 # trailing
  type = number   // slash trailing
  /* a block
     comment kept as it is */
  description = "x"
}

f = 1 # one
gg = 2
hhh = 3 # three

i = 1 # one
# standalone
jj = 2 # two

list = [
  "a", # first
  "bbbb", # second
]
m = a.b.c #c
nnnnn = func(a, b)    # long
/* top-level block comment */
