#!/bin/sh
# Installs lambda-ci for the GitHub Action (and for anyone): the version asked for (VERSION, by
# default the one in this checkout's Cargo.toml), from the first of
#   1. a lambda-ci of that version already on PATH,
#   2. an earlier install in the tool cache ($RUNNER_TOOL_CACHE/lambda-ci/VERSION, which the
#      action caches),
#   3. the release binary for this OS and architecture (from LAMBDA_CI_RELEASES, default the
#      action repository's GitHub releases),
#   4. a build from source: cargo install --locked.
# Adds its directory to $GITHUB_PATH when running in GitHub Actions. With --no-build it stops
# before building, and says in $GITHUB_OUTPUT whether it `found` one and, if not, the
# `cache-key` of the build (the action then restores its build cache and builds).
set -eu
no_build=false
[ "${1:-}" = "--no-build" ] && no_build=true
here=$(cd "$(dirname "$0")/.." && pwd)
own=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
version=${VERSION:-$own}
version=${version#v}
root="${RUNNER_TOOL_CACHE:-${HOME:-/tmp}/.cache}/lambda-ci/$version"

use() {
  if [ -n "${GITHUB_PATH:-}" ]; then
    echo "$1" >> "$GITHUB_PATH"
  fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "found=true" >> "$GITHUB_OUTPUT"
  fi
  echo "lambda-ci $version: $2"
  exit 0
}

if command -v lambda-ci >/dev/null 2>&1 && [ "$(lambda-ci --version | cut -d' ' -f2)" = "$version" ]; then
  use "$(dirname "$(command -v lambda-ci)")" "already installed"
fi
if [ -x "$root/bin/lambda-ci" ]; then
  use "$root/bin" "from the tool cache"
fi

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  *) target="" ;;
esac
releases=${LAMBDA_CI_RELEASES:-}
if [ -z "$releases" ] && [ -n "${GITHUB_ACTION_REPOSITORY:-}" ]; then
  releases="https://github.com/$GITHUB_ACTION_REPOSITORY/releases/download"
fi
if [ -n "$target" ] && [ -n "$releases" ]; then
  archive="lambda-ci-$version-$target.tar.gz"
  tmp=$(mktemp -d)
  if curl -fsSL --retry 2 -o "$tmp/$archive" "$releases/v$version/$archive"; then
    mkdir -p "$root/bin"
    tar -xzf "$tmp/$archive" -C "$root/bin" lambda-ci
    rm -rf "$tmp"
    use "$root/bin" "the release binary for $target"
  fi
  rm -rf "$tmp"
  echo "no release binary $archive at $releases; building from source" >&2
fi

if [ "$no_build" = true ]; then
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "found=false" >> "$GITHUB_OUTPUT"
    # The build cache's key: platform, version and the lockfile the build uses. (The action
    # cannot use hashFiles() for it: that only reads files inside the workspace.)
    lock=$( (sha256sum "$here/Cargo.lock" 2>/dev/null || cksum "$here/Cargo.lock") | cut -c1-16)
    echo "cache-key=lambda-ci-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$version-$lock" >> "$GITHUB_OUTPUT"
  fi
  echo "lambda-ci $version: not installed yet; it will be built from source"
  exit 0
fi
cargo install --locked --path "$here" --root "$root"
use "$root/bin" "built from source"
