#!/usr/bin/env bash
# Regenerates tests/fixtures/import_terraform/terraform.tfstate: the real terraform (1.11)
# with the real hashicorp/aws provider (5.100.0, from a filesystem mirror) applies
# tests/fixtures/import_terraform/config/*.tf against a fresh moto_server, and
# `terraform state pull` writes the state braid's test imports.
#
#   scripts/regen-import-terraform-fixture.sh
#
# Needs: terraform on PATH (or TERRAFORM), moto_server on PATH (or BRAID_MOTO_SERVER, or the
# virtualenv scripts/test.sh makes), and the provider in TF_PLUGIN_MIRROR (default
# /opt/tf-plugins, laid out as `terraform providers mirror` makes it). moto listens on
# MOTO_PORT (default 45100): the state records it in queue URLs, and the test puts its own
# moto's address in their place.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
fixture="$root/tests/fixtures/import_terraform"
terraform="${TERRAFORM:-terraform}"
mirror="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
port="${MOTO_PORT:-45100}"
moto="${BRAID_MOTO_SERVER:-$(command -v moto_server || echo "$HOME/.cache/braid-venv/bin/moto_server")}"

work="$(mktemp -d)"
moto_pid=""
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.2
done

cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
TFRC

cp -R "$fixture"/config/. "$work/"
# Only terraform reads this file: braid configures providers in braid.hcl.
cat >"$work/provider_moto.tf" <<TF
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
    dynamodb       = "http://127.0.0.1:$port"
    ecr            = "http://127.0.0.1:$port"
    iam            = "http://127.0.0.1:$port"
    s3             = "http://127.0.0.1:$port"
    secretsmanager = "http://127.0.0.1:$port"
    sns            = "http://127.0.0.1:$port"
    sqs            = "http://127.0.0.1:$port"
    ssm            = "http://127.0.0.1:$port"
    sts            = "http://127.0.0.1:$port"
  }
}
TF

export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
(
  cd "$work"
  "$terraform" init -input=false -no-color >/dev/null
  "$terraform" apply -input=false -auto-approve -no-color
  "$terraform" state pull >"$fixture/terraform.tfstate"
)
echo "wrote $fixture/terraform.tfstate (moto was at 127.0.0.1:$port)"
