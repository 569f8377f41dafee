# Expressions that Terraform 1.11 rejects; braid must reject each with a diagnostic (exit
# code 1, no panic). One output per line; each is checked alone.
output "abs_e1" { value = abs("x") }
output "base64decode_e1" { value = base64decode("not base64!") }
output "cidrhost_e1" { value = cidrhost("10.0.0.0/24", 256) }
output "cidrhost_e2" { value = cidrhost("not a cidr", 1) }
output "cidrnetmask_e1" { value = cidrnetmask("fd00::/64") }
output "cidrsubnet_e1" { value = cidrsubnet("10.0.0.0/30", 4, 0) }
output "cidrsubnet_e2" { value = cidrsubnet("10.0.0.0/24", 2, 4) }
output "cidrsubnets_e1" { value = cidrsubnets("10.0.0.0/30", 1, 1, 1) }
output "cidrsubnets_e2" { value = cidrsubnets("10.0.0.0/24", 0) }
output "cidrsubnets_e3" { value = cidrsubnets("10.0.0.0/8", 33) }
output "coalesce_e1" { value = coalesce(null, "") }
output "csvdecode_e1" { value = csvdecode("a,b\n1,2,3") }
output "csvdecode_e2" { value = csvdecode("") }
output "element_e1" { value = element([], 0) }
output "file_e1" { value = file("files/missing.txt") }
output "file_e2" { value = file("../outside.txt") }
output "filemd5_e1" { value = filemd5("files/missing.txt") }
output "formatdate_e1" { value = formatdate("YYY", "2018-01-02T23:12:01Z") }
output "formatdate_e2" { value = formatdate("YYYY", "2018-01-02") }
output "formatdate_e3" { value = formatdate("'unterminated", "2018-01-02T23:12:01Z") }
output "index_e1" { value = index(["a"], "z") }
output "jsondecode_e1" { value = jsondecode("{") }
output "length_e1" { value = length(5) }
output "log_e1" { value = log("x", 10) }
output "matchkeys_e1" { value = matchkeys(["a"], [], ["x"]) }
output "one_e1" { value = one(["a", "b"]) }
output "parseint_e1" { value = parseint("12", 1) }
output "range_e1" { value = range(1, 2, 0) }
output "regex_e1" { value = regex("x", "y") }
output "regex_e2" { value = regex("(", "y") }
output "regex_e3" { value = regex("(?P<a>x)(y)", "xy") }
output "regexall_e1" { value = regexall("[", "y") }
output "replace_e1" { value = replace("x", "/(/", "y") }
output "setproduct_e1" { value = setproduct() }
output "setunion_e1" { value = setunion("a") }
output "textdecodebase64_e1" { value = textdecodebase64("aGk=", "NOT-AN-ENCODING") }
output "textencodebase64_e1" { value = textencodebase64("☃", "ISO-8859-1") }
output "textencodebase64_e2" { value = textencodebase64("x", "NOT-AN-ENCODING") }
output "timeadd_e1" { value = timeadd("2017-11-22T00:00:00Z", "10d") }
output "timeadd_e2" { value = timeadd("yesterday", "1h") }
output "timecmp_e1" { value = timecmp("2017-11-22", "2017-11-22T00:00:00Z") }
output "tobool_e1" { value = tobool("yes") }
output "tonumber_e1" { value = tonumber("abc") }
output "transpose_e1" { value = transpose({a = "x"}) }
output "upper_e1" { value = upper(["a"]) }
output "uuidv5_e1" { value = uuidv5("bogus", "x") }
output "yamldecode_e1" { value = yamldecode("a: [") }
output "yamldecode_e2" { value = yamldecode("a: 1\n---\nb: 2\n") }
output "zipmap_e1" { value = zipmap(["a"], []) }
output "element_e2" { value = element(["a", "b", "c"], -1) }
output "setproduct_e2" { value = setproduct(["a", "b"]) }
output "yamldecode_e3" { value = yamldecode("") }
output "md5_e1" { value = md5(null) }
output "regex_e4" { value = regex(null, "x") }
output "cidrhost_e3" { value = cidrhost(null, 1) }
output "yamlencode_e1" { value = yamlencode() }
output "setunion_e2" { value = setunion(["a"], "b") }
output "formatdate_e4" { value = formatdate("YYYY", null) }
output "timecmp_e2" { value = timecmp("2017-11-22T00:00:00Z", ["x"]) }
output "transpose_e2" { value = transpose(["a"]) }
output "log_e2" { value = log(null, 10) }
output "csvdecode_e3" { value = csvdecode(null) }
output "sha1_e1" { value = sha1(["a"]) }
output "try_e1" { value = try(local.undeclared_name, 1) }
output "try_e2" { value = try(tonumber("x"), tonumber("y")) }
output "can_e1" { value = can(1, 2) }
output "templatefile_e1" { value = templatefile("files/greeting.tmpl", {name = "x"}) }
output "templatefile_e2" { value = templatefile("../outside.tmpl", {}) }
output "templatefile_e3" { value = templatefile("files/greeting.tmpl", {"not a name" = 1, name = "a", items = [], admin = true}) }
output "templatefile_e4" { value = templatefile("files/missing.tmpl", {}) }
output "templatestring_e1" { value = templatestring("hi", {}) }
output "templatestring_e2" { value = templatestring(local.template_if, {}) }
output "sensitive_e1" { value = sensitive("a") }
output "sensitive_e2" { value = var.conformance_secret }
output "type_e1" { value = type("a") }
output "conditional_e1" { value = true ? 1 : true }
output "conditional_e2" { value = true ? {a = 1} : {b = [1]} }
output "conditional_e3" { value = true ? {a = 1, b = true} : {a = 2} }
output "toset_e1" { value = toset([1, true]) }
output "index_e2" { value = index(["1", "2"], 2) }
output "arithmetic_e1" { value = 5 / 0 }
output "rsadecrypt_e1" { value = rsadecrypt("not base64!", file("files/rsa-pkcs1.pem")) }
output "rsadecrypt_e2" { value = rsadecrypt("CzYHnfz2MYPXsbZr2GH+GPLG9XVjKT0TVvgL5vXU0LHnE7x/7eNmgHBeB85iU3qQJ+VKoCCrtyILHakSkj2plPSoTxFZMKvItEp7UoIF6Q2Owyuj6LqVpuNVduiJabhqQx03355W+0s+EcE5Fp2Q+H3tYMTYkkYA4cbip9jyDWo=", "not a key") }
output "rsadecrypt_e3" { value = rsadecrypt("AAAA", file("files/rsa-pkcs1.pem")) }
output "conditional_e4" { value = timestamp() == "" ? 1 : true }
