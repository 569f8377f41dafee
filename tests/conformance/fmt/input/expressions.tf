locals {
  cond = var.x? 1 : 0
  call = upper( "x" )
  idx = var.l [ 0 ]
  splat = aws_x.y[*].id
  legacy_splat = aws_x.y.*.id
  math = 1+2*3 - -1
  parens = (1+2)*3
  neg = -var.y
  negs = [-1, - 2]
  not = !true
  logic = a < b && c >= d || !e
  div = a /b
  fe = [for s in var.l: upper(s) if s!=""]
  fm = {for k,v in var.m: k=>v}
  grouped = {for k, v in var.m: k => v...}
  expand = f(a...)
  tpl = "${var.a}-%{ if true }x%{ endif }"
  strip = "${ x ~}"
  inner = "a${ var.x }b"
  esc = "$${literal} %%{literal}"
  map_key = var.m["k"]
  nested_call = merge( {a=1}, var.tags )
}
resource "x" "y" {
  interp = "${var.x}"
  interp_call = "${lookup(var.m, "k")}"
  not_alone = "${var.x}-suffix"
  obj = { c = "${x}" }
}
