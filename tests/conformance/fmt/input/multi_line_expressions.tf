resource "a" "b" {
	tabbed	=	1
  args = merge(
    var.a,
      { b = 2 },
  )
  cond = (
    var.x
    ? 1
    : 2
  )
  items = [
    for x in var.l : {
  name = x
    }
  ]
  obj = { # comment after brace
    a = 1
  }
  short = 1 # aligned?
  longer_name = [
    1,
  ] # after close
  x = 1
  # between
  yy = 2
  z = "a" /* inline block */
  k = var.m [ "key" ] . attr
  w = a*b + c%d
  str = "tab\tquote\" ${var.x} end"
  json = jsonencode( { "a" : 1 } )
  nullv = null
  num = 1.5e3
  neg = 5 - 3
  ellip = concat( var.a ... )
}
