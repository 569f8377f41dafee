#!/usr/bin/env bash
# Builds braid's release archive for this machine, as .github/workflows/release.yml does for
# each target on a tag:
#
#   OUT/braid-TARGET.tar.gz      braid-VERSION-TARGET/{braid, README.md, CHANGELOG.md, LICENSE,
#                                completions/{braid.bash,_braid,braid.fish,_braid.ps1},
#                                man/braid*.1}
#   OUT/ARCH/braid               the binary alone, for Linux targets: the container image's
#                                build context (ARCH as Docker names it: amd64, arm64)
#   OUT/braid-VERSION.cdx.json   the SBOM (CycloneDX 1.5, from Cargo.lock)
#   OUT/RELEASE-NOTES.md         the CHANGELOG section of VERSION (else Unreleased)
#   OUT/SHA256SUMS               checksums of the archives and the SBOM
#
# Usage: scripts/release-local.sh [--out DIR] [--binary PATH] [--target TRIPLE]
#   --binary PATH   package this braid binary instead of building one (`cargo build
#                   --profile dist`); tests use it to package a debug build
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist
binary=""
target="$(rustc -vV | sed -n 's/^host: //p')"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    *) echo "release-local: unknown option $1" >&2; exit 1 ;;
  esac
done

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || { echo "release-local: no version in Cargo.toml" >&2; exit 1; }

if [ -z "$binary" ]; then
  target_dir="${CARGO_TARGET_DIR:-target}"
  echo "==> cargo build --locked --profile dist --bin braid --target $target"
  cargo build --locked --profile dist --bin braid --target "$target"
  binary="$target_dir/$target/dist/braid"
fi
[ -x "$binary" ] || { echo "release-local: $binary is not an executable" >&2; exit 1; }

mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$out/braid-$version-$target"
rm -rf "$stage"
mkdir -p "$stage/completions" "$stage/man"
cp "$binary" "$stage/braid"
case "$target" in
  x86_64-unknown-linux-*) docker_arch=amd64 ;;
  aarch64-unknown-linux-*) docker_arch=arm64 ;;
  *) docker_arch="" ;;
esac
if [ -n "$docker_arch" ]; then
  mkdir -p "$out/$docker_arch"
  cp "$binary" "$out/$docker_arch/braid"
fi
cp README.md CHANGELOG.md LICENSE "$stage/"
"$stage/braid" completion bash > "$stage/completions/braid.bash"
"$stage/braid" completion zsh > "$stage/completions/_braid"
"$stage/braid" completion fish > "$stage/completions/braid.fish"
"$stage/braid" completion powershell > "$stage/completions/_braid.ps1"
"$stage/braid" man --out-dir "$stage/man" > /dev/null

# Reproducible with GNU tar (gtar on macOS): fixed owner, order and times (the commit's).
mtime="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
gnu_tar=tar
command -v gtar > /dev/null && gnu_tar=gtar
if "$gnu_tar" --version 2>/dev/null | grep -q GNU; then
  "$gnu_tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
    -C "$out" -cf - "braid-$version-$target" | gzip -n > "$out/braid-$target.tar.gz"
else
  tar -C "$out" -cf - "braid-$version-$target" | gzip -n > "$out/braid-$target.tar.gz"
fi
rm -rf "$stage"

python3 scripts/sbom.py --version "$version" --target "$target" > "$out/braid-$version.cdx.json"
scripts/changelog-section.sh "$version" > "$out/RELEASE-NOTES.md"

if command -v sha256sum > /dev/null; then
  (cd "$out" && sha256sum braid-*.tar.gz braid-*.cdx.json > SHA256SUMS)
else
  (cd "$out" && shasum -a 256 braid-*.tar.gz braid-*.cdx.json > SHA256SUMS)
fi
echo "==> $out:"
(cd "$out" && cat SHA256SUMS)
