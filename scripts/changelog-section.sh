#!/usr/bin/env bash
# Prints the CHANGELOG.md section of VERSION (`## [VERSION]`), or the Unreleased section
# when VERSION has none yet: the release notes of a tag.
#
# Usage: scripts/changelog-section.sh VERSION   (with or without a leading v)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: changelog-section.sh VERSION}"
version="${version#v}"
section() {
  awk -v want="$1" '
    /^## \[/ { inside = (index($0, "## [" want "]") == 1); if (inside) { print; next } }
    inside { print }
  ' CHANGELOG.md
}
notes="$(section "$version")"
[ -n "$notes" ] || notes="$(section Unreleased)"
[ -n "$notes" ] || { echo "changelog-section: CHANGELOG.md has no section for $version" >&2; exit 1; }
printf '%s\n' "$notes"
