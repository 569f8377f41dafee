# Expressions whose values braid must compute exactly as Terraform 1.11 does; one output per
# line, or per block of lines up to a line that is "}" when the first line does not end with
# "}" (heredocs). Grouped by function.
# Variables and locals the cases read (blocks of several lines, up to a line that is "}").
variable "conformance_secret" {
  default   = "hush"
  sensitive = true
}
variable "conformance_optional" {
  type = object({
    name  = optional(string, "web")
    ports = optional(list(object({ port = number, protocol = optional(string, "tcp") })), [])
    tags  = optional(map(string))
    owner = optional(object({ team = optional(string, "platform"), email = string }), { email = "ops@example.com" })
  })
  default = { ports = [{ port = 80 }, { port = 53, protocol = "udp" }] }
}
locals {
  template_for = "%%{ for k, v in m ~}\n$${k}=$${v}\n%%{~ endfor ~}\n!"
  template_if  = "%%{ if on }on $${n * 2}%%{ else }off%%{ endif }"
}
output "abs_1" { value = [abs(-12.5), abs(0), abs(3)] }
output "abs_2" { value = abs("-4") }
output "abspath_1" { value = abspath("/a/b/../c") }
output "alltrue_1" { value = [alltrue([]), alltrue([true, "true"]), alltrue([true, false])] }
output "anytrue_1" { value = [anytrue([]), anytrue([false, "true"]), anytrue([false])] }
output "base64decode_1" { value = base64decode("SGVsbG8gV29ybGQ=") }
output "base64decode_2" { value = base64decode("w7xuw68=") }
output "base64encode_1" { value = [base64encode("Hello World"), base64encode(""), base64encode("ünï")] }
output "base64gzip_1" { value = length(base64gzip("hello")) > 0 }
output "base64gzip_2" { value = base64gzip("hello world") }
output "base64sha256_1" { value = base64sha256("hello world") }
output "base64sha512_1" { value = [base64sha512("hello world"), base64sha512("")] }
output "basename_1" { value = [basename("foo/bar/baz.txt"), basename("/"), basename("foo/")] }
output "bcrypt_1" { value = bcrypt("secret") }
output "bcrypt_2" { value = bcrypt("x", 3) }
output "ceil_1" { value = [ceil(5.1), ceil(-5.1), ceil(5)] }
output "chomp_1" { value = [chomp("hello\n"), chomp("hello\r\n\n"), chomp("hello\n ")] }
output "chunklist_1" { value = [chunklist(["a", "b", "c", "d", "e"], 2), chunklist([], 3)] }
output "cidrhost_1" { value = [cidrhost("10.12.112.0/20", 16), cidrhost("10.12.112.0/20", 268), cidrhost("10.0.0.0/24", -1), cidrhost("10.0.0.0/8", 0)] }
output "cidrhost_2" { value = [cidrhost("fd00:fd12:3456:7890:00a2::/72", 34), cidrhost("::/0", 1)] }
output "cidrhost_3" { value = cidrhost("10.1.2.3/24", 5) }
output "cidrnetmask_1" { value = [cidrnetmask("172.16.0.0/12"), cidrnetmask("10.0.0.0/32"), cidrnetmask("0.0.0.0/0")] }
output "cidrsubnet_1" { value = [cidrsubnet("172.16.0.0/12", 4, 2), cidrsubnet("10.1.2.0/24", 4, 15), cidrsubnet("10.0.0.0/8", 0, 0)] }
output "cidrsubnet_2" { value = cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162) }
output "cidrsubnets_1" { value = cidrsubnets("10.1.0.0/16", 4, 4, 8, 4) }
output "cidrsubnets_2" { value = cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32) }
output "cidrsubnets_3" { value = [cidrsubnets("10.0.0.0/8"), cidrsubnets("10.0.0.0/30", 1, 1)] }
output "cidrsubnets_4" { value = cidrsubnets("10.0.0.0/16", 8, 4, 8) }
output "coalesce_1" { value = [coalesce("", "b"), coalesce(null, 1), coalesce("a", "b")] }
output "coalescelist_1" { value = [coalescelist([], ["b"]), coalescelist(["a"], ["b"])] }
output "compact_1" { value = compact(["a", "", "b", null, "c"]) }
output "concat_1" { value = [concat(["a"], [], ["b", "c"]), concat([])] }
output "contains_1" { value = [contains(["a", "b"], "a"), contains(["a"], "z"), contains([1, 2], 2)] }
output "csvdecode_1" { value = csvdecode("a,b,c\n1,2,3\n4,5,6") }
output "csvdecode_2" { value = csvdecode("a,b\n1,2\n\n3,\"x,y\"\n") }
output "csvdecode_3" { value = [csvdecode("a,b\n"), csvdecode("name\n\"ünï \"\"q\"\"\"")] }
output "dirname_1" { value = [dirname("foo/bar/baz.txt"), dirname("/foo"), dirname("foo"), dirname("")] }
output "distinct_1" { value = distinct(["a", "b", "a", "c", "b"]) }
output "element_1" { value = [element(["a", "b", "c"], 1), element(["a", "b", "c"], 3) ] }
output "endswith_1" { value = [endswith("hello world", "world"), endswith("hello", ""), endswith("", "x")] }
output "file_1" { value = file("files/hello.txt") }
output "filebase64_1" { value = filebase64("files/hello.txt") }
output "filebase64sha256_1" { value = filebase64sha256("files/hello.txt") }
output "filebase64sha512_1" { value = filebase64sha512("files/hello.txt") }
output "fileexists_1" { value = [fileexists("files/hello.txt"), fileexists("files/missing.txt")] }
output "filemd5_1" { value = filemd5("files/hello.txt") }
output "fileset_1" { value = fileset("files", "*.txt") }
output "fileset_2" { value = fileset("files", "**") }
output "fileset_3" { value = [fileset("files", "**/*.{txt,cfg}"), fileset("files", "sub/?.cfg"), fileset("files", "nothing*")] }
output "fileset_4" { value = fileset("files/sub", "[a-n]*") }
output "filesha1_1" { value = filesha1("files/hello.txt") }
output "filesha256_1" { value = filesha256("files/hello.txt") }
output "filesha512_1" { value = filesha512("files/hello.txt") }
output "flatten_1" { value = [flatten([["a", "b"], [], ["c"]]), flatten([[["a"]], "b"])] }
output "floor_1" { value = [floor(5.9), floor(-5.1), floor(5)] }
output "format_1" { value = [format("Hello, %s!", "Ander"), format("%d items", 3), format("%.2f", 3.14159), format("%5s|%-5s|", "a", "b")] }
output "format_2" { value = [format("%v %v %v", true, 1.5, "x"), format("%#v", {a = 1}), format("%%"), format("%q", "x\"y")] }
output "format_3" { value = [format("%x %X %o %b %e", 255, 255, 8, 5, 1500), format("%03d", 7), format("%+d", 5)] }
output "formatdate_1" { value = [formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"), formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")] }
output "formatdate_2" { value = [formatdate("h:mm aa", "2018-01-02T23:12:01Z"), formatdate("H:mm AA", "2018-01-02T00:05:01Z"), formatdate("MMM D, YYYY", "2018-01-02T23:12:01-08:00")] }
output "formatdate_3" { value = [formatdate("YYYY-MM-DD'T'hh:mm:ssZ", "2018-01-02T23:12:01+05:30"), formatdate("'It''s' EEE MMMM ZZZZ ZZZZZ", "2018-01-02T23:12:01+05:30"), formatdate("''", "2018-01-02T23:12:01Z")] }
output "formatdate_4" { value = [formatdate("M/D/YY s m", "2018-01-02T03:04:05Z"), formatdate("ZZZ", "2018-01-02T03:04:05+00:00"), formatdate("Z", "2018-01-02T03:04:05.123Z")] }
output "formatlist_1" { value = [formatlist("Hello, %s!", ["Valentina", "Ander"]), formatlist("%s, %s", "x", ["a", "b"])] }
output "indent_1" { value = ["x${indent(2, "a\nb\n")}y", indent(0, "a\nb")] }
output "index_1" { value = [index(["a", "b", "c"], "b"), index([1, 2], 2)] }
output "join_1" { value = [join(", ", ["foo", "bar", "baz"]), join(",", []), join("-", ["a"], ["b", "c"])] }
output "jsondecode_1" { value = jsondecode("{\"hello\": \"world\", \"n\": [1, 2.5, null, true]}") }
output "jsonencode_1" { value = [jsonencode({"hello" = "world", n = [1, 2.5, null, true]}), jsonencode("<&>"), jsonencode(1e20)] }
output "keys_1" { value = keys({a = 1, c = 2, d = 3}) }
output "length_1" { value = [length([]), length(["a", "b"]), length({a = 1}), length("hello"), length("")] }
output "length_2" { value = [length("🤔🤷"), length("e\u0301"), length("🇩🇪🇫🇷"), length("👩‍👩‍👧")] }
output "log_1" { value = [log(50, 10), log(16, 2), log(1, 10)] }
output "lookup_1" { value = [lookup({a = "ay", b = "bee"}, "a", "what?"), lookup({a = "ay"}, "c", "what?")] }
output "lower_1" { value = [lower("HELLO"), lower("АЛЛО!"), lower("")] }
output "matchkeys_1" { value = matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"]) }
output "matchkeys_2" { value = [matchkeys([], [], ["x"]), matchkeys(["a", "b"], [1, 2], [2, 3])] }
output "max_1" { value = [max(12, 54, 3), max([12, 54, 3]...), max(-1.5, "2")] }
output "md5_1" { value = [md5("hello world"), md5(""), md5("ünï")] }
output "merge_1" { value = [merge({a = "b", c = "d"}, {e = "f", c = "z"}), merge({a = "b"}, {}), merge()] }
output "min_1" { value = [min(12, 54, 3), min([12, 54, 3]...), min(-1.5, "2")] }
output "one_1" { value = [one([]), one(["hello"]), one(toset(["a"]))] }
output "parseint_1" { value = [parseint("100", 10), parseint("FF", 16), parseint("-10", 16), parseint("1011111011101111", 2), parseint("zz", 36)] }
output "pathexpand_1" { value = [pathexpand("/etc/resolv.conf"), pathexpand("a/~b")] }
output "pathexpand_2" { value = pathexpand("~/.ssh/id_rsa") }
output "plantimestamp_1" { value = [length(plantimestamp()), timecmp(plantimestamp(), "2020-01-01T00:00:00Z")] }
output "pow_1" { value = [pow(3, 2), pow(4, 0), pow(2, -1), pow(4, 0.5)] }
output "range_1" { value = [range(3), range(1, 4), range(1, 8, 2), range(4, 1), range(0), range(1, 2, 0.5)] }
output "regex_1" { value = regex("[a-z]+", "53453453.345345aaabbbccc23454") }
output "regex_2" { value = regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01") }
output "regex_3" { value = regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/") }
output "regex_4" { value = [regex("(a)|(b)", "b"), regex("(?i)HELLO", "say hello"), regex("é+", "caféé")] }
output "regex_5" { value = regex("^(?P<first>\\w+)\\s+(?P<rest>.*)$", "hello big world") }
output "regexall_1" { value = [regexall("[a-z]+", "1234abcd5678efgh9"), regexall("[a-z]+", "123"), length(regexall("l", "hello"))] }
output "regexall_2" { value = regexall("(\\w+)=(\\w+)", "a=1 b=2") }
output "regexall_3" { value = regexall("(?P<k>\\w+)=(?P<v>\\w*)", "a=1 b=") }
output "replace_1" { value = [replace("1 + 2 + 3", "+", "-"), replace("hello world", "/w.*d/", "everybody"), replace("a/b", "/", "-")] }
output "replace_2" { value = [replace("a1b22", "/([0-9]+)/", "<$1>"), replace("hello", "/(?P<x>l+)/", "[$${x}]"), replace("abc", "//", "-"), replace("", "a", "b")] }
output "reverse_1" { value = [reverse([1, 2, 3]), reverse([])] }
output "setintersection_1" { value = setintersection(["a", "b"], ["b", "c"], ["b", "d"]) }
output "setintersection_2" { value = [setintersection([1, 2, 3], [3, 2]), setintersection(["a"], [])] }
output "setproduct_1" { value = setproduct(["development", "staging"], ["app1", "app2"]) }
output "setproduct_2" { value = [setproduct(["a"], []), setproduct(["a", "b"], [1], [true, false])] }
output "setsubtract_1" { value = [setsubtract(["a", "b", "c"], ["a", "c"]), setsubtract([3, 1, 2], [2]), setsubtract([], ["a"])] }
output "setunion_1" { value = [setunion(["a", "b"], ["b", "c"], ["d"]), setunion([3, 1], [2, 1]), setunion([])] }
output "sha1_1" { value = [sha1("hello world"), sha1("")] }
output "sha256_1" { value = [sha256("hello world"), sha256("ünï")] }
output "sha512_1" { value = sha512("hello world") }
output "signum_1" { value = [signum(-13), signum(0), signum(344)] }
output "slice_1" { value = [slice(["a", "b", "c", "d"], 1, 3), slice([1, 2], 0, 0)] }
output "sort_1" { value = [sort(["e", "d", "a", "x"]), sort(["10", "9", "1"]), sort([])] }
output "split_1" { value = [split(",", "foo,bar,baz"), split(",", "foo"), split(",", ""), split("", "abc")] }
output "startswith_1" { value = [startswith("hello world", "hello"), startswith("hello", ""), startswith("", "x")] }
output "strcontains_1" { value = [strcontains("hello world", "wor"), strcontains("hello", "x"), strcontains("", "")] }
output "strrev_1" { value = [strrev("hello"), strrev("a☃"), strrev(""), strrev("e\u0301a"), strrev("🇩🇪🇫🇷")] }
output "substr_1" { value = [substr("hello world", 1, 4), substr("hello world", -5, -1), substr("hello", 10, 1), substr("hello", 0, 100)] }
output "substr_2" { value = [substr("🤔🤷x", 1, 1), substr("e\u0301abc", 0, 2), substr("🇩🇪🇫🇷x", 1, 2)] }
output "sum_1" { value = [sum([10, 13, 6, 4.5]), sum([1]), sum(["1", 2])] }
output "textdecodebase64_1" { value = [textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE"), textdecodebase64("/A==", "ISO-8859-1"), textdecodebase64("aGk=", "UTF-8")] }
output "textencodebase64_1" { value = [textencodebase64("Hello World", "UTF-16LE"), textencodebase64("ünï", "ISO-8859-1"), textencodebase64("ünï", "UTF-8"), textencodebase64("", "UTF-8")] }
output "timeadd_1" { value = [timeadd("2017-11-22T00:00:00Z", "10m"), timeadd("2017-11-22T00:00:00Z", "-1h30m"), timeadd("2017-11-22T00:00:00+01:00", "1.5h"), timeadd("2024-02-28T23:00:00Z", "24h")] }
output "timeadd_2" { value = [timeadd("2017-11-22T00:00:00.123Z", "1s"), timeadd("2017-11-22T00:00:00Z", "0"), timeadd("2017-11-22T00:00:00Z", "1h1m1s1ms1us1ns")] }
output "timecmp_1" { value = [timecmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z"), timecmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z"), timecmp("2017-11-22T01:00:00+01:00", "2017-11-22T00:00:00Z"), timecmp("2017-11-22T00:00:01Z", "2017-11-22T00:00:00Z")] }
output "timestamp_1" { value = timestamp() }
output "title_1" { value = [title("hello world"), title("héllo wörld-foo_bar"), title("")] }
output "tobool_1" { value = [tobool(true), tobool("false"), tobool(null)] }
output "tolist_1" { value = [tolist(["a", "b"]), tolist(["a", 1, true])] }
output "tomap_1" { value = [tomap({a = 1, b = 2}), tomap({a = "x", b = 1})] }
output "tonumber_1" { value = [tonumber(1), tonumber("1.5"), tonumber("-3"), tonumber(null)] }
output "toset_1" { value = [toset(["c", "b", "b", "a"]), toset([3, 1, 2, 1])] }
output "tostring_1" { value = [tostring("hello"), tostring(1), tostring(true), tostring(1.5), tostring(null)] }
output "transpose_1" { value = transpose({a = ["1", "2"], b = ["2", "3"]}) }
output "transpose_2" { value = [transpose({}), transpose({a = []})] }
output "trim_1" { value = [trim("?!hello?!", "!?"), trim("   hello", " "), trim("", "x")] }
output "trimprefix_1" { value = [trimprefix("helloworld", "hello"), trimprefix("helloworld", "cat"), trimprefix("aaa", "a")] }
output "trimspace_1" { value = [trimspace("  hello\n\n"), trimspace(""), trimspace("\t a b \r\n")] }
output "trimsuffix_1" { value = [trimsuffix("helloworld", "world"), trimsuffix("helloworld", "cat")] }
output "upper_1" { value = [upper("hello"), upper("алло!"), upper("straße")] }
output "urlencode_1" { value = [urlencode("Hello World!"), urlencode("☃"), urlencode("a/b?c=d&e")] }
output "uuid_1" { value = uuid() }
output "uuidv5_1" { value = [uuidv5("dns", "www.terraform.io"), uuidv5("url", "https://www.terraform.io/"), uuidv5("oid", "1.2.3"), uuidv5("x500", "CN=Test")] }
output "uuidv5_2" { value = uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io") }
output "values_1" { value = [values({a = 3, c = 2, d = 1}), values({})] }
output "yamldecode_1" { value = yamldecode("hello: world\nlist: [1, 2, 3]\nnested:\n  a: true\n  b: null\n") }
output "yamldecode_2" { value = [yamldecode("- 1\n- [2, 3]\n- {x: y}"), yamldecode("1: a\ntrue: b"), yamldecode("\"just a string\"")] }
output "yamldecode_3" { value = [yamldecode("a: yes"), yamldecode("a: 'yes'"), yamldecode("a: 1.5e3"), yamldecode("a: ~")] }
output "yamldecode_4" { value = yamldecode("a: |\n  line one\n  line two\nb: >\n  folded\n  text\n") }
output "yamldecode_5" { value = [yamldecode("a: 010"), yamldecode("a: 0x10"), yamldecode("a: -7"), yamldecode("a: 2001-12-14")] }
output "yamlencode_1" { value = yamlencode({a = 1, b = "x", c = [1, 2, {d = true}], e = {}, f = [], g = null}) }
output "yamlencode_2" { value = yamlencode({h = "multi\nline\n", i = "multi\nline", j = "yes", k = "1.5", l = "", m = 1.5, n = "with: colon"}) }
output "yamlencode_3" { value = yamlencode({o = [[1, 2], [3]], p = {q = {r = "s"}}, "key with space" = "v", u = "ünï", t = "  lead", w = "a\tb"}) }
output "yamlencode_4" { value = [yamlencode("hi"), yamlencode([]), yamlencode(null), yamlencode(true), yamlencode(0.1), yamlencode({})] }
output "yamlencode_5" { value = [yamlencode("trailing\n\n"), yamlencode("x\n y"), yamlencode({a = " x\ny"}), yamlencode({a = "\n"}), yamlencode({a = "x \ny"})] }
output "yamlencode_6" { value = yamlencode("aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss") }
output "yamlencode_7" { value = yamlencode({nested = {key = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv wwww"}}) }
output "yamlencode_8" { value = yamlencode([{a = 1, b = 2}, [], {}, ["x", {y = "z"}], "🤔", "a\r\nb", "\u0085", "\"q\""]) }
output "yamlencode_9" { value = yamlencode({a = {b = ["x\ny", "z"]}}) }
output "yamlencode_10" { value = yamlencode([12345678901234567890, -1, 1e20, 1.25]) }
output "zipmap_1" { value = [zipmap(["a", "b"], [1, 2]), zipmap([], [])] }
output "conversions_1" { value = [md5(1), sha1(true), cidrhost("10.0.0.0/8", "5"), cidrsubnet("10.0.0.0/8", "8", 1), log("100", 10), uuidv5("dns", 12)] }
output "conversions_2" { value = [setunion(["a"], [1]), setintersection(["1", "2"], [1]), setsubtract(["1", "2"], [2]), regexall("[0-9]", 1234)] }
output "conversions_3" { value = [formatdate("YYYY", "2020-01-01T00:00:00Z"), timeadd("2020-01-01T00:00:00Z", "1h"), textencodebase64(123, "UTF-8"), yamlencode({a = [null, true, 1.5, "x"]})] }
output "unicode_1" { value = [regex("\\p{Greek}+", "abc αβγ def"), replace("ünï ünï", "ü", "u"), replace("日本語", "/本/", "-"), md5("日本語"), csvdecode("ä,ö\n1,2")] }
output "unicode_2" { value = [yamlencode({"ключ" = "значение"}), yamldecode("ключ: значение"), textencodebase64("日本", "UTF-16LE"), upper("éà"), lower("ÉÀ")] }
output "empty_1" { value = [regexall("", "ab"), replace("", "/x*/", "y"), setunion([], []), transpose({a = []}), matchkeys([], [], []), cidrsubnets("10.0.0.0/8")] }
output "regex_6" { value = [regex("(?m)^b$", "a\nb\nc"), regex("(?s)a.b", "a\nb"), regexall("\\bfoo\\b", "foo foobar foo"), regex("[[:alpha:]]+", "123abc")] }
output "cidrhost_4" { value = [cidrhost("192.168.1.0/24", 255), cidrhost("2001:db8::/126", -1), cidrhost("10.0.0.0/32", 0)] }
output "cidrsubnets_5" { value = cidrsubnets("10.0.0.0/24", 2, 1) }
output "csvdecode_4" { value = csvdecode("a,b\r\n\"multi\nline\",2\r\n\"\",\" spaced \"\r\n") }
output "yamlencode_11" { value = yamlencode({"true" = "null", "1" = "~", "" = "1e3", "-" = "- x", "#" = "# c"}) }
output "yamlencode_12" { value = yamlencode({a = "line1\nline2 \nline3", b = "\ttab\nx", c = "x\n\n\ny", d = " \n"}) }
output "setproduct_3" { value = setproduct([1, 2], ["a"], [true]) }
output "timeadd_3" { value = [timeadd("2020-02-29T12:00:00-07:00", "-8760h"), timeadd("1999-12-31T23:59:59Z", "1s"), timeadd("2020-01-01T00:00:00Z", "+90m")] }
output "formatdate_5" { value = [formatdate("DD.MM.YYYY, EEE hh:mm:ss", "1970-01-01T00:00:00Z"), formatdate("YY", "2009-06-15T12:00:00Z"), formatdate("aa AA h H", "2020-06-15T12:00:00Z")] }
output "transpose_3" { value = transpose({b = ["x"], a = ["x", "y"], c = ["y", "z"]}) }
output "try_1" { value = [try(tonumber("x"), "fallback"), try("first", tonumber("x")), try(tonumber("x"), tonumber("y"), 3), try(1, "x")] }
output "try_2" { value = [try({a = 1}.b, "none"), try(["a"][3], "none"), try({a = "x"}["missing"], "default"), try(["a"], 1)] }
output "try_3" { value = try(timestamp(), "x") }
output "can_1" { value = [can(tonumber("x")), can(tonumber("1")), can({a = 1}.b), can(regex("^a", "abc")), can(null)] }
output "can_2" { value = can(timestamp()) }
output "issensitive_1" { value = [issensitive(sensitive("a")), issensitive("a"), issensitive(var.conformance_secret), issensitive(nonsensitive(var.conformance_secret))] }
output "nonsensitive_1" { value = [nonsensitive(sensitive("shown")), nonsensitive("plain"), nonsensitive(var.conformance_secret)] }
output "sensitive_1" { value = nonsensitive(sensitive({a = [1]})) }
output "ephemeralasnull_1" { value = [ephemeralasnull("x"), ephemeralasnull(null), ephemeralasnull({a = [1]})] }
output "templatefile_1" { value = templatefile("files/greeting.tmpl", {name = "Ann", items = ["x", "y"], admin = false}) }
output "templatefile_2" { value = templatefile("files/greeting.tmpl", {name = 1, items = [], admin = true, unused = "z"}) }
output "templatestring_1" { value = [templatestring(local.template_for, {m = {a = 1, b = "x"}}), templatestring(local.template_for, {m = {}})] }
output "templatestring_2" { value = [templatestring(local.template_if, {on = true, n = 2}), templatestring(local.template_if, {on = false, n = 0})] }
output "template_1" { value = ["a ${~ "b" ~} c", "x %{~ if true ~} y %{~ endif ~} z", "[%{ for s in ["a", "b"] ~} ${s} %{~ endfor }]", "a\n  ${~ "b"}"] }
output "template_2" { value = ["%{ if false }x%{ endif }", "%{ for i, s in ["a", "b"] }${i}${s},%{ endfor }", "%{ for k, v in {b = 2, a = 1} }${k}${v}%{ endfor }", "$${x} %%{y}"] }
output "heredoc_1" {
  value = <<EOT
%{ for x in [1, 2] ~}
  v${x}
%{ endfor ~}
end
EOT
}
output "heredoc_2" {
  value = <<-EOT
    %{ for x in [1, 2] ~}
      v${x}
    %{ endfor ~}
    end
  EOT
}
output "heredoc_3" {
  value = <<-EOT
    a
      %{~ if true ~}
      b ${~ "x" ~}
      %{~ endif ~}
    c
    EOT
}
output "heredoc_4" {
  value = <<-EOT
  %{ if true }
    b
  %{ else }
    c
  %{ endif }
  EOT
}
output "heredoc_5" {
  value = <<-EOT
    name: ${"web"}
      port: ${80}

    tail
    EOT
}
output "heredoc_6" {
  value = <<-EOT
    %{~ for x in ["a", "b"] }
      - ${x}
    %{~ endfor }
  EOT
}
output "conditional_1" { value = [false ? "a" : 1, true ? "a" : 1, true ? [1] : ["a"], false ? ["a", 1] : ["b"], true ? [1, "a"] : [true]] }
output "conditional_2" { value = [true ? {a = 1} : {a = 2, b = 3}, false ? {a = 1} : {a = "x"}, true ? null : {a = 1}, true ? [] : ["a"], true ? {} : {a = 1}, false ? tolist(["a"]) : [1, 2]] }
output "conditional_3" { value = [true ? "x" : tonumber("bad"), false ? {a = 1}.b : "ok", true ? 1 : null, false ? {a = true} : {a = "s"}] }
output "equality_1" { value = [1 == "1", "a" == "a", [1] == ["1"], {a = 1} == {a = 1}, null == null, 1 == 1.0, true == "true", [1, "a"] == ["1", "a"], 1 != "1"] }
output "splat_1" { value = [[{a = 1}, {a = 2}].*.a, [{a = [1, 2]}, {a = [3, 4]}].*.a[0], [{a = [1, 2]}, {a = [3, 4]}][*].a[0], [{a = {b = 1}}].*.a.b] }
output "object_keys_1" { value = {true = 1, null = 2, false = 3} }
output "object_keys_2" { value = {a = 1, a = 2} }
output "arithmetic_1" { value = [5 % 0, -5 % 3, 5.5 % 2, 7 % 2] }
output "format_4" { value = format("%s", null) }
output "toset_2" { value = [toset(["a", true]), toset(["b", 1, "a"]), distinct([1, "1", true]), distinct(["a", 1, "a"])] }
output "contains_2" { value = [contains(["a", "1"], 1), contains([1, 2], "1"), index(["a", 1], 1)] }
output "optional_1" { value = var.conformance_optional }
output "rsadecrypt_1" { value = [rsadecrypt("CzYHnfz2MYPXsbZr2GH+GPLG9XVjKT0TVvgL5vXU0LHnE7x/7eNmgHBeB85iU3qQJ+VKoCCrtyILHakSkj2plPSoTxFZMKvItEp7UoIF6Q2Owyuj6LqVpuNVduiJabhqQx03355W+0s+EcE5Fp2Q+H3tYMTYkkYA4cbip9jyDWo=", file("files/rsa-pkcs1.pem")), rsadecrypt("CzYHnfz2MYPXsbZr2GH+GPLG9XVjKT0TVvgL5vXU0LHnE7x/7eNmgHBeB85iU3qQJ+VKoCCrtyILHakSkj2plPSoTxFZMKvItEp7UoIF6Q2Owyuj6LqVpuNVduiJabhqQx03355W+0s+EcE5Fp2Q+H3tYMTYkkYA4cbip9jyDWo=", file("files/rsa-pkcs8.pem"))] }
output "unicode_3" { value = [upper("ǆemal"), lower("ǅemal"), title("ǆemal ǉubljana"), upper("ﬁ"), lower("İ"), upper("ı"), title("élan ñu")] }
output "unicode_4" { value = [length("각"), strrev("각x"), substr("नमस्ते", 1, 2), length("नमस्ते"), substr("a👍🏽b", 1, 1), strrev("a👍🏽b"), length("\r\n")] }
output "unicode_5" { value = [upper("Σίσυφος"), lower("ΣΊΣΥΦΟΣ"), title("ǳ"), upper("ß"), lower("ẞ"), title("o'neil mcdonald-x")] }
output "conditional_4" { value = timestamp() == "" ? ["a"] : [1, 2] }
