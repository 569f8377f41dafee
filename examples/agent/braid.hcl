# braid deploying braid agent into a Kubernetes cluster (docs/agent.md, "Running it in a
# cluster"). The cluster comes from KUBECONFIG, as kubectl takes it:
#
#   KUBECONFIG=~/.kube/ops braid --env ops apply
#
# The manifests hold placeholders (image, repository URLs, the Secret's values): replace
# them before you apply, and keep the real Secret out of git (see manifests/secret.yaml).
source "agent" {
  path = "manifests"
}

environment "ops" {}
