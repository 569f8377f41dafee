# examples/platform — the infrastructure repository of the "acme shop".
#
# Three sources feed one graph: the HCL files of this repository (AWS resources), the
# Kubernetes manifests of the deployment repository, examples/deploy, read from git at a ref,
# and the Helm chart of the notifications service in that same repository.
# The manifests consume real names, URLs and ARNs from here through ${{ }} references, so
# each Deployment waits for the queue, role and repository it uses.

source "infra" {
  path = "."                  # this checkout (a plain directory)
}

source "apps" {
  repo = "../deploy"          # a sibling checkout of the deployment repository, read with gix
  ref  = "main"               # pull requests override it: --ref apps=feature/web-v2
}

# The notifications service is packaged as a Helm chart in the same repository. braid renders
# it per environment (docs/helm.md): values.yaml, then values-staging.yaml or
# values-prod.yaml, which take the dead-letter queue's URL from AWS through ${{ }}.
source "notifications" {
  repo = "../deploy"
  ref  = "main"
  path = "charts/notifications"
  helm {
    values = ["values.yaml", "values-${env.name}.yaml"]
  }
}

# ---------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------

environment "staging" {
  overlay = "staging"         # renders <service>/overlays/staging in the deployment repo
  variables = {
    aws_account_id    = "123456789012"
    eks_oidc_provider = "oidc.eks.eu-west-1.amazonaws.com/id/STAGING5A1B2C3D"
    domain            = "staging.shop.example.com"
  }

  # State on the disk of the machine that runs braid (.braid/state/staging.db). Good for a
  # laptop or one long-lived runner. CI runners that start empty need a shared backend:
  # use the same s3 block as prod (with prefix "braid/"), or postgres:
  #   state {
  #     backend = "postgres"
  #     url     = env("BRAID_STATE_URL")   # postgres://braid:…@db.internal:5432/braid
  #   }
  state {
    backend = "sqlite"
  }

  # Only what is merged may be applied: every source must come from main.
  apply_rule {
    refs = ["refs/heads/main"]
  }

  # braid agent (docs/agent.md): staging follows main by itself, and changes made by hand
  # are undone within a minute. CI's own runs are unaffected by these settings.
  auto_apply = true
  drift {
    heal     = true
    interval = "1m"
  }
}

environment "prod" {
  overlay = "prod"
  variables = {
    aws_account_id    = "123456789012"
    eks_oidc_provider = "oidc.eks.eu-west-1.amazonaws.com/id/PROD9F8E7D6C"
    domain            = "shop.example.com"
  }

  # Shared state that every CI runner reaches: an S3 bucket with conditional writes
  # (docs/state.md). The object is braid/prod/state.json. endpoint is null unless
  # BRAID_AWS_ENDPOINT is set, which means real AWS S3; scripts/demo.sh points it at moto.
  # A team with a database can use postgres instead:
  #   state {
  #     backend = "postgres"
  #     url     = env("BRAID_STATE_URL")
  #   }
  state {
    backend  = "s3"
    bucket   = "acme-braid-state"
    prefix   = "braid/"
    region   = "eu-west-1"
    endpoint = env("BRAID_AWS_ENDPOINT")
  }

  # Only release tags reach prod: both repositories must be read at a v* tag.
  apply_rule {
    refs = ["refs/tags/v*"]
  }
}

# ---------------------------------------------------------------------------------------
# Providers
# ---------------------------------------------------------------------------------------

provider "aws" {
  region = "eu-west-1"
  # env() returns null when the variable is unset, and a null (or empty) endpoint means
  # "no override": the SDK's normal AWS endpoints. Set BRAID_AWS_ENDPOINT only for an
  # emulator (moto_server, LocalStack). Credentials come from the standard AWS chain
  # (CI: the OIDC role; laptop: AWS_PROFILE).
  endpoint = env("BRAID_AWS_ENDPOINT")
}

provider "kubernetes" {
  # The cluster of the environment being applied: CI sets KUBECONFIG from that
  # environment's secret (null = the provider's default, KUBECONFIG then ~/.kube/config).
  kubeconfig = env("KUBECONFIG")
  namespace  = "shop"         # for manifests that name no namespace
}
