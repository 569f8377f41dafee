a = {}
b = []
c = {}
e = { a = 1, b = 2 }
list = [1, 2,
3]
multi = [
  1,
  2
]
objects = [{
  name = "a"
  }, {
  name = "b"
}]
obj = {
  "quoted key" = 1
  k2           = 2
  key3         = ["x", "y"]
}
x = {
  a  = 1,
  bb = 2,
}
nested = { outer = { inner = [1, { deep = true }] } }
