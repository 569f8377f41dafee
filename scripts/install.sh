#!/bin/sh
# Installs a braid release: downloads the archive for this OS and architecture, checks it
# against the release's SHA256SUMS, and installs braid, its man pages and its shell
# completions under a prefix. Nothing is installed when the checksum does not match.
#
#   curl -fsSL https://github.com/braid-dev/braid/releases/latest/download/install.sh | sh
#   sh install.sh --version v0.1.0 --prefix /usr/local
#
# Options (or the environment variables in brackets):
#   --version TAG    release to install, e.g. v0.1.0 [BRAID_VERSION]; default: the latest
#   --prefix DIR     install under DIR/bin, DIR/share [BRAID_PREFIX]; default: ~/.local
#   --base-url URL   where releases are published [BRAID_DOWNLOAD_URL]; archives are
#                    fetched from URL/download/TAG/ (URL/latest/download/ for the latest)
#   --target TRIPLE  archive to fetch instead of this machine's [BRAID_TARGET]
set -eu

version="${BRAID_VERSION:-latest}"
prefix="${BRAID_PREFIX:-${HOME}/.local}"
base_url="${BRAID_DOWNLOAD_URL:-https://github.com/braid-dev/braid/releases}"
target="${BRAID_TARGET:-}"

fail() {
  echo "braid install: $*" >&2
  exit 1
}

usage() {
  echo "Installs a braid release, checked against the release's SHA256SUMS."
  echo
  echo "  install.sh [--version TAG] [--prefix DIR] [--base-url URL] [--target TRIPLE]"
  echo
  echo "  --version TAG    release to install, e.g. v0.1.0 [BRAID_VERSION]; default: the latest"
  echo "  --prefix DIR     install under DIR/bin and DIR/share [BRAID_PREFIX]; default: ~/.local"
  echo "  --base-url URL   where releases are published [BRAID_DOWNLOAD_URL]"
  echo "  --target TRIPLE  archive to fetch instead of this machine's [BRAID_TARGET]"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || fail "--version needs a value"; version="$2"; shift 2 ;;
    --version=*) version="${1#*=}"; shift ;;
    --prefix) [ $# -ge 2 ] || fail "--prefix needs a value"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --base-url) [ $# -ge 2 ] || fail "--base-url needs a value"; base_url="$2"; shift 2 ;;
    --base-url=*) base_url="${1#*=}"; shift ;;
    --target) [ $# -ge 2 ] || fail "--target needs a value"; target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
done

if [ -z "$target" ]; then
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64|amd64) arch=x86_64 ;;
    aarch64|arm64) arch=aarch64 ;;
    *) fail "no release is built for the architecture $arch; build from source: cargo install --locked braid" ;;
  esac
  case "$os" in
    Linux) target="$arch-unknown-linux-gnu" ;;
    Darwin) target="$arch-apple-darwin" ;;
    *) fail "no release is built for $os; build from source: cargo install --locked braid" ;;
  esac
fi

archive="braid-$target.tar.gz"
case "$version" in
  latest) url="${base_url%/}/latest/download" ;;
  v*) url="${base_url%/}/download/$version" ;;
  *) url="${base_url%/}/download/v$version" ;;
esac

if command -v curl >/dev/null 2>&1; then
  fetch() { curl --proto '=http,https' -fsSL -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  fail "needs curl or wget to download"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  fail "needs sha256sum or shasum to check the download"
fi

work="$(mktemp -d 2>/dev/null || mktemp -d -t braid-install)"
trap 'rm -rf "$work"' EXIT INT TERM

echo "braid install: downloading $url/$archive"
fetch "$url/$archive" "$work/$archive" || fail "could not download $url/$archive (is $version a release, with an archive for $target?)"
fetch "$url/SHA256SUMS" "$work/SHA256SUMS" || fail "could not download $url/SHA256SUMS"

expected="$(awk -v name="$archive" '$2 == name || $2 == "*" name { print $1 }' "$work/SHA256SUMS")"
[ -n "$expected" ] || fail "SHA256SUMS of $version lists no $archive"
actual="$(sha256 "$work/$archive")"
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual. Nothing was installed."
fi

mkdir "$work/unpacked"
tar -xzf "$work/$archive" -C "$work/unpacked"
top="$(find "$work/unpacked" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
[ -n "$top" ] && [ -f "$top/braid" ] || fail "$archive holds no braid binary"

mkdir -p "$prefix/bin"
cp "$top/braid" "$prefix/bin/braid.new"
chmod 755 "$prefix/bin/braid.new"
mv -f "$prefix/bin/braid.new" "$prefix/bin/braid"

if [ -d "$top/man" ]; then
  mkdir -p "$prefix/share/man/man1"
  cp "$top"/man/*.1 "$prefix/share/man/man1/"
fi
if [ -d "$top/completions" ]; then
  mkdir -p "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
    "$prefix/share/fish/vendor_completions.d"
  cp "$top/completions/braid.bash" "$prefix/share/bash-completion/completions/braid"
  cp "$top/completions/_braid" "$prefix/share/zsh/site-functions/_braid"
  cp "$top/completions/braid.fish" "$prefix/share/fish/vendor_completions.d/braid.fish"
fi

echo "braid install: installed $("$prefix/bin/braid" --version 2>/dev/null || echo braid) to $prefix/bin/braid"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "braid install: add $prefix/bin to PATH" ;;
esac
