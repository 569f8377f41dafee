# The quickstart project: everything is local, so it runs anywhere.
source "infra" { path = "." }

environment "dev" {
  variables = { greeting = "hello", replicas = 2 }
}

environment "staging" {
  variables = { greeting = "good morning", replicas = 3 }
}
