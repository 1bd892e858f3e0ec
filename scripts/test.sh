#!/bin/sh
# Runs every test: builds the offline stand-in base images if they are missing, then the unit
# and end-to-end tests (the latter drive the real binary against the local Docker engine).
set -eu
cd "$(dirname "$0")/.."
./scripts/standin-images.sh
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked --no-fail-fast
fi
